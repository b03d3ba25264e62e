from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from beatdesk.accounts.policy import (
    is_active_staff,
    is_administrator,
    may_read_audit,
    reads_force_wide,
)
from beatdesk.live.queries import READERS as LIVE_READERS
from beatdesk.publishing.queries import may_read_posts


def desk(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    signed_in = user.is_authenticated
    staff = bool(signed_in and is_active_staff(user))  # type: ignore[arg-type]
    force_wide = bool(signed_in and reads_force_wide(user))  # type: ignore[arg-type]
    return {
        "demo_mode": settings.DEMO,
        "may_read_audit": bool(signed_in and may_read_audit(user)),  # type: ignore[arg-type]
        # Stories, rumours and operation boards are for the force-wide roles.
        "reads_force_wide": force_wide,
        # The main navigation names only the pages this role may open (the rest answer 403).
        "nav": {
            "staff": staff,
            "publishing": bool(signed_in and may_read_posts(user)),  # type: ignore[arg-type]
            "live": staff and getattr(user, "role", "") in LIVE_READERS,
            "routing": force_wide,
            "channels": force_wide,
            "administration": bool(signed_in and is_administrator(user)),  # type: ignore[arg-type]
        },
    }
