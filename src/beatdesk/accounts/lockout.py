"""Sign-in lockout: a username is locked whatever address it is tried from, and an address
is locked after many failures whatever usernames it tries, each with its own limit."""

from __future__ import annotations

from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_parameters, get_client_username, get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest


class LockoutHandler(AxesDatabaseHandler):
    """django-axes' database handler, counting failures per username and per address apart.

    Axes compares one number with one limit (AXES_FAILURE_LIMIT). An address may share many
    people (an office behind one gateway), so it gets a higher limit of its own
    (BEATDESK_LOGIN_ADDRESS_FAILURE_LIMIT): the number returned here reaches
    AXES_FAILURE_LIMIT exactly when one of the counts reaches its own limit."""

    def get_failures(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> int:
        limit = get_failure_limit(request, credentials)
        groups = get_client_parameters(
            get_client_username(request, credentials),
            request.axes_ip_address,  # type: ignore[attr-defined]
            request.axes_user_agent,  # type: ignore[attr-defined]
            request,
            credentials,
        )
        worst = 0
        for params, attempts in zip(
            groups, self.get_user_attempts(request, credentials), strict=True
        ):
            count = attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0
            own = (
                settings.BEATDESK_LOGIN_ADDRESS_FAILURE_LIMIT
                if set(params) == {"ip_address"}
                else limit
            )
            worst = max(worst, count - own + limit)
        return max(worst, 0)

    def reset_user_attempts(
        self, request: HttpRequest, credentials: dict[str, Any] | None = None
    ) -> int:
        # Axes would forget every failure from the address too, so signing in to one's own
        # account would wipe the failures against someone else's from the same address.
        username = get_client_username(request, credentials)
        deleted, _ = AccessAttempt.objects.filter(username=username).delete()
        return deleted
