from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from beatdesk.accounts.policy import may_read_audit, reads_force_wide


def desk(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    return {
        "demo_mode": settings.DEMO,
        "may_read_audit": bool(user.is_authenticated and may_read_audit(user)),  # type: ignore[arg-type]
        # Stories, rumours and operation boards are for the force-wide roles.
        "reads_force_wide": bool(user.is_authenticated and reads_force_wide(user)),  # type: ignore[arg-type]
    }
