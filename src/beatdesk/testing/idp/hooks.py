"""What the loopback provider puts in its ID tokens beyond the standard claims."""

from __future__ import annotations

from typing import Any

# Membership of this group stands for "signs in with a second factor at the provider".
MFA_GROUP = "signs-in-with-mfa"


def id_token(claims: dict[str, Any], *, user: Any, **kwargs: Any) -> dict[str, Any]:
    names = set(user.groups.values_list("name", flat=True))
    claims["groups"] = sorted(names - {MFA_GROUP})
    claims["amr"] = ["pwd", "mfa"] if MFA_GROUP in names else ["pwd"]
    claims["email"] = user.email
    claims["preferred_username"] = user.username
    claims["name"] = user.get_full_name() or user.username
    return claims
