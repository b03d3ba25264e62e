"""Signing in through the force's OpenID Connect provider, with mozilla-django-oidc: its
authorization-code flow (with PKCE and a nonce), token and signature checks, and its
SessionRefresh middleware, which asks the provider again (prompt=none) when the ID token's
renewal time has passed, so that a person disabled there loses their session.

The provider's endpoints are read lazily (sso/config.py) rather than from settings; who the
person is on the desk, and with what role and teams, is decided in sso/actions.py."""

from __future__ import annotations

from typing import Any

import jwt
import requests
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, logout
from django.core.exceptions import SuspiciousOperation
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect
from django.urls import reverse
from django.views.generic import View
from django_otp import login as otp_login
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.middleware import SessionRefresh
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from beatdesk.accounts.models import User
from beatdesk.audit.actions import Category, record
from beatdesk.sso.actions import Refused, check_sign_in
from beatdesk.sso.config import ProviderUnreachable, enabled, endpoint
from beatdesk.sso.models import ProviderSecondFactor

# Set on the callback's request by the backend, read by the callback view.
REFUSAL = "beatdesk_sso_refusal"
PROVIDER_MFA = "beatdesk_sso_provider_mfa"


def provider_did_mfa(claims: dict[str, Any]) -> bool:
    amr = claims.get("amr") or []
    return bool({str(a) for a in amr} & settings.BEATDESK_OIDC_MFA_AMR)


class SsoBackend(OIDCAuthenticationBackend):
    """mozilla-django-oidc's backend, with the desk's own decision on who signs in."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Not the parent's: it reads the endpoints from settings when made, and Django makes
        # a backend for every request of a signed-in person.
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        self.OIDC_RP_CLIENT_SECRET = settings.OIDC_RP_CLIENT_SECRET
        self.OIDC_RP_SIGN_ALGO = settings.OIDC_RP_SIGN_ALGO
        self.OIDC_RP_IDP_SIGN_KEY = None
        self.UserModel = get_user_model()

    @property
    def OIDC_OP_TOKEN_ENDPOINT(self) -> str:  # noqa: N802 (the parent's name)
        return endpoint("token")

    @property
    def OIDC_OP_USER_ENDPOINT(self) -> str:  # noqa: N802
        return endpoint("userinfo")

    @property
    def OIDC_OP_JWKS_ENDPOINT(self) -> str:  # noqa: N802
        return endpoint("jwks")

    def authenticate(self, request: HttpRequest | None, **kwargs: Any) -> User | None:
        if request is None or "code" not in request.GET:
            return None
        try:
            user: User | None = super().authenticate(request, **kwargs)
        except (requests.RequestException, jwt.PyJWTError, ProviderUnreachable) as exc:
            self._refuse_quietly(request, f"The identity provider's answer was not usable: {exc}")
            return None
        except SuspiciousOperation as exc:
            self._refuse_quietly(request, f"The identity provider's token was refused: {exc}")
            return None
        return user

    def _refuse_quietly(self, request: HttpRequest, reason: str) -> None:
        setattr(request, REFUSAL, reason)
        record_refusal(reason)

    def verify_token(self, token: str, **kwargs: Any) -> dict[str, Any]:
        payload: dict[str, Any] = super().verify_token(token, **kwargs)
        # mozilla-django-oidc checks the signature, expiry and nonce; the issuer and the
        # audience are checked here (OpenID Connect Core 3.1.3.7, steps 2 and 3).
        issuer = settings.BEATDESK_OIDC_ISSUER
        if issuer and str(payload.get("iss", "")).rstrip("/") != issuer:
            raise SuspiciousOperation("the ID token is from another issuer")
        audience = payload.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if self.OIDC_RP_CLIENT_ID not in audiences:
            raise SuspiciousOperation("the ID token is for another client")
        return payload

    def get_userinfo(self, access_token: str, id_token: str, payload: dict[str, Any]) -> Any:
        """The userinfo endpoint's claims, if the provider has one, under the ID token's:
        groups and amr come in the ID token (Entra ID's userinfo has neither)."""
        claims: dict[str, Any] = {}
        if self.OIDC_OP_USER_ENDPOINT:
            claims.update(super().get_userinfo(access_token, id_token, payload))
            if str(claims.get("sub", payload.get("sub"))) != str(payload.get("sub")):
                raise SuspiciousOperation("userinfo is about another subject")
        claims.update(payload)
        return claims

    def get_or_create_user(
        self, access_token: str, id_token: str, payload: dict[str, Any]
    ) -> User | None:
        claims = self.get_userinfo(access_token, id_token, payload)
        issuer = settings.BEATDESK_OIDC_ISSUER or str(payload.get("iss", ""))
        try:
            user = check_sign_in(claims, issuer)
        except Refused as refused:
            setattr(self.request, REFUSAL, str(refused))
            return None
        setattr(self.request, PROVIDER_MFA, provider_did_mfa(payload))
        return user


class _OnlyWhenConfigured(View):
    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not enabled():
            raise Http404("Single sign-on is not configured.")
        try:
            return super().dispatch(request, *args, **kwargs)
        except ProviderUnreachable as exc:
            messages.error(request, str(exc))
            return redirect("accounts:login")


class SsoRequestView(_OnlyWhenConfigured, OIDCAuthenticationRequestView):
    """/sso/login/: off to the provider's sign-in page."""

    def __init__(self, **kwargs: Any) -> None:
        View.__init__(self, **kwargs)
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID

    @property
    def OIDC_OP_AUTH_ENDPOINT(self) -> str:  # noqa: N802
        return endpoint("authorization")


class SsoCallbackView(_OnlyWhenConfigured, OIDCAuthenticationCallbackView):
    """/sso/callback/: the provider sends the person back here with a code (or an error)."""

    @property
    def failure_url(self) -> str:
        return reverse("accounts:login")

    def login_failure(self) -> HttpResponse:
        request = self.request
        reason = getattr(request, REFUSAL, "")
        error = request.GET.get("error")
        if error:
            reason = f"The identity provider did not sign you in ({error})."
            record_refusal(reason)
        # A renewal the provider or the desk refused ends the session it was renewing.
        if request.user.is_authenticated:
            logout(request)
        messages.error(request, reason or "Single sign-on did not complete; try again.")
        return redirect(self.failure_url)

    def login_success(self) -> HttpResponse:
        response: HttpResponse = super().login_success()
        if getattr(self.request, PROVIDER_MFA, False):
            device, _ = ProviderSecondFactor.objects.get_or_create(
                user=self.user, defaults={"name": "Identity provider"}
            )
            otp_login(self.request, device)
            with transaction.atomic():
                record(
                    self.user, Category.AUTHENTICATION, "login.second_factor_provider", self.user
                )
        return response


class SsoSessionRefresh(SessionRefresh):
    """Asks the provider again once the ID token's renewal time has passed (GET pages only;
    not htmx's background requests, which cannot follow a redirect to the provider)."""

    def __init__(self, get_response: Any) -> None:
        # Not the parent's: it reads the authorization endpoint when the server starts.
        self.get_response = get_response
        self.OIDC_EXEMPT_URLS: list[Any] = []
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        self.OIDC_STATE_SIZE = 32
        self.OIDC_AUTHENTICATION_CALLBACK_URL = settings.OIDC_AUTHENTICATION_CALLBACK_URL
        self.OIDC_RP_SCOPES = settings.OIDC_RP_SCOPES
        self.OIDC_USE_NONCE = True
        self.OIDC_NONCE_SIZE = 32
        super(SessionRefresh, self).__init__(get_response)

    @property
    def OIDC_OP_AUTHORIZATION_ENDPOINT(self) -> str:  # noqa: N802
        return endpoint("authorization")

    @property
    def exempt_urls(self) -> set[str]:
        return {reverse(name) for name in ("sso:login", "sso:callback", "accounts:logout")}

    def is_refreshable_url(self, request: HttpRequest) -> bool:
        if request.headers.get("HX-Request") or request.path.startswith(
            ("/static/", "/healthz", "/metrics", "/public/")
        ):
            return False
        return bool(super().is_refreshable_url(request))


def record_refusal(reason: str) -> None:
    """A single sign-on that ended without a session, audited with its reason."""
    with transaction.atomic():
        record(
            None,
            Category.AUTHENTICATION,
            "login.sso_refused",
            object_type="accounts.user",
            justification=reason,
        )
