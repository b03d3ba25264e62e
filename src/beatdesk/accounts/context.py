from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse

from beatdesk.accounts.doors import navigation
from beatdesk.accounts.policy import is_active_staff, may_read_audit, reads_force_wide


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
        # The main navigation names only the pages this role may open, from the doors.
        "nav": {"staff": staff, "links": _links(request)},
    }


def _links(request: HttpRequest) -> list[dict[str, Any]]:
    """The links of the main navigation for the signed-in person, the current one marked."""
    user = request.user
    if not (user.is_authenticated and user.is_active):
        return []
    links = []
    for name, label in navigation(user.role):  # type: ignore[union-attr]
        url = reverse(name)
        current = request.path == url or (url != "/" and request.path.startswith(url))
        links.append({"url": url, "label": label, "current": current})
    return links
