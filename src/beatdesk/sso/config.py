"""Where the identity provider's endpoints come from: BEATDESK_OIDC_*_ENDPOINT when given,
else the provider's discovery document under BEATDESK_OIDC_ISSUER, fetched once per process
when first needed (never at start-up, so that the desk starts while the provider is away)."""

from __future__ import annotations

from typing import Any

import httpx
from django.conf import settings

_DISCOVERY_KEYS = {
    "authorization": "authorization_endpoint",
    "token": "token_endpoint",
    "userinfo": "userinfo_endpoint",
    "jwks": "jwks_uri",
}
_discovered: dict[str, Any] = {}


class ProviderUnreachable(Exception):
    """The provider's discovery document could not be read; the reason is for people."""


def enabled() -> bool:
    return bool(settings.BEATDESK_SSO)


def discovery() -> dict[str, Any]:
    if not _discovered:
        issuer = settings.BEATDESK_OIDC_ISSUER
        url = f"{issuer}/.well-known/openid-configuration"
        try:
            response = httpx.get(url, timeout=settings.OIDC_TIMEOUT, follow_redirects=True)
            response.raise_for_status()
            document = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise ProviderUnreachable(
                f"The identity provider's configuration ({url}) could not be read: {exc}"
            ) from exc
        # OpenID Connect Discovery 1.0, section 4.3: the issuer must be the one configured.
        if document.get("issuer", "").rstrip("/") != issuer:
            raise ProviderUnreachable(
                f"The identity provider at {url} names another issuer: {document.get('issuer')}"
            )
        _discovered.update(document)
    return _discovered


def endpoint(name: str) -> str:
    given: str = settings.BEATDESK_OIDC_ENDPOINTS.get(name, "")
    if given or not settings.BEATDESK_OIDC_ISSUER:
        return given
    return str(discovery().get(_DISCOVERY_KEYS[name], ""))
