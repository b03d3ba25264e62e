"""Sign-in events go to the audit log; disabling an account ends its sessions."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.contrib.sessions.models import Session
from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.http import HttpRequest

from beatdesk.accounts.models import User, UserSession
from beatdesk.audit.actions import Category, record


@receiver(user_logged_in)
def on_login(sender: Any, request: HttpRequest, user: User, **kwargs: Any) -> None:
    import time

    request.session["beatdesk_signed_in_at"] = time.time()
    request.session["beatdesk_last_seen"] = time.time()
    request.session.save()
    with transaction.atomic():
        UserSession.objects.get_or_create(
            session_key=request.session.session_key, defaults={"user": user}
        )
        # Through the identity provider, or with the desk's own password.
        how = "sso" if getattr(user, "backend", "").startswith("beatdesk.sso.") else "password"
        record(user, Category.AUTHENTICATION, f"login.{how}", user)


@receiver(user_login_failed)
def on_login_failed(sender: Any, credentials: dict[str, Any], **kwargs: Any) -> None:
    # The username tried is personal data: only its digest goes in the chain.
    with transaction.atomic():
        record(
            None,
            Category.AUTHENTICATION,
            "login.failed",
            object_type="accounts.user",
            payload=credentials.get("username", ""),
        )


@receiver(user_logged_out)
def on_logout(sender: Any, request: HttpRequest, user: User | None, **kwargs: Any) -> None:
    if user is None:
        return
    with transaction.atomic():
        if request.session.session_key:
            UserSession.objects.filter(session_key=request.session.session_key).delete()
        record(user, Category.AUTHENTICATION, "logout", user)


def note_timeout(request: HttpRequest, which: str) -> None:
    user = request.user
    with transaction.atomic():
        record(user, Category.AUTHENTICATION, f"session.timeout.{which}", user)  # type: ignore[arg-type]


def end_sessions(user: User) -> int:
    keys = list(UserSession.objects.filter(user=user).values_list("session_key", flat=True))
    Session.objects.filter(session_key__in=keys).delete()
    UserSession.objects.filter(user=user).delete()
    return len(keys)


@receiver(post_save, sender=User)
def on_user_saved(sender: Any, instance: User, created: bool, **kwargs: Any) -> None:
    if not created and not instance.is_active:
        end_sessions(instance)
