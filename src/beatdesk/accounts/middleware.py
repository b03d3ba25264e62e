"""Session lifetimes and the second factor, enforced on every request."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from beatdesk.accounts.signals import note_timeout

_OPEN_PREFIXES = ("/static/", "/healthz", "/metrics", "/public/")
# Only the sign-in pages themselves: the rest of /accounts/ (the shift switch, …) changes
# the user's state and needs the second factor like everything else.
_SIGN_IN_PAGES = ("accounts:login", "accounts:second_factor", "accounts:logout")


class SessionTimeoutMiddleware:
    """Sign out after BEATDESK_IDLE_TIMEOUT_MINUTES idle or ABSOLUTE_TIMEOUT after sign-in."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = time.time()
            session = request.session
            started = session.get("beatdesk_signed_in_at", now)
            last_seen = session.get("beatdesk_last_seen", now)
            idle = settings.BEATDESK_IDLE_TIMEOUT_MINUTES * 60
            absolute = settings.BEATDESK_ABSOLUTE_TIMEOUT_MINUTES * 60
            if now - last_seen > idle or now - started > absolute:
                note_timeout(request, "idle" if now - last_seen > idle else "absolute")
                logout(request)
                return redirect(f"{reverse('accounts:login')}?timeout=1")
            session["beatdesk_signed_in_at"] = started
            # Live polling is not a person at the keyboard: it does not keep a session alive.
            if request.headers.get("HX-Trigger") != "inbox-live":
                session["beatdesk_last_seen"] = now
        return self.get_response(request)


class RequireSecondFactorMiddleware:
    """Everyone who signs in (staff and community advisers) must pass TOTP before seeing
    anything but the sign-in pages."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and not user.is_verified()  # type: ignore[union-attr,attr-defined]
            and not request.path.startswith(_OPEN_PREFIXES)
            and request.path not in {reverse(name) for name in _SIGN_IN_PAGES}
        ):
            return redirect("accounts:second_factor")
        return self.get_response(request)
