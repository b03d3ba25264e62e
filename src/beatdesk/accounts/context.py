from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from beatdesk.accounts.policy import may_read_audit


def desk(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    return {
        "demo_mode": settings.DEMO,
        "may_read_audit": bool(user.is_authenticated and may_read_audit(user)),  # type: ignore[arg-type]
    }
