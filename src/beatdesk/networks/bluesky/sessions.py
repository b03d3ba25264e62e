"""An account's Bluesky session kept across processes, encrypted with its credentials.

The session (DID, handle, access and refresh tokens) is stored under "session" in the
account's encrypted credentials, with the fingerprint of the service, identifier and app
password it was made with: new credentials never reuse an old session. Every process that
fetches or publishes for the account reads it from there, so a `poll --once` from cron signs
in once and then refreshes, instead of calling createSession every run.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from django.db import transaction

from beatdesk.audit.actions import Category, record_system
from beatdesk.networks.base import TransientError
from beatdesk.networks.bluesky.client import Credentials, Session

if TYPE_CHECKING:
    from beatdesk.networks.models import NetworkAccount

SESSION_KEY = "session"


class AccountSessions:
    """The SessionStore of one NetworkAccount."""

    def __init__(self, account: NetworkAccount, fingerprint: str) -> None:
        self.account = account
        self.fingerprint = fingerprint

    def load(self) -> Session | None:
        """The stored session, read afresh (another process may have renewed it)."""
        row = type(self.account).objects.filter(pk=self.account.pk).first()
        if row is None:
            return None
        return _session_in(row.get_credentials(), self.fingerprint)

    def save(self, session: Session) -> None:
        model = type(self.account)
        with transaction.atomic():
            row = model.objects.select_for_update().filter(pk=self.account.pk).first()
            if row is None:
                return
            credentials = row.get_credentials()
            if (
                Credentials.from_dict(credentials).cache_key != self.fingerprint
            ):  # the credentials changed meanwhile: this session is theirs no longer
                return
            renewed = SESSION_KEY in credentials
            credentials[SESSION_KEY] = {"for": self.fingerprint, **session.to_dict()}
            row.set_credentials(credentials)
            model.objects.filter(pk=row.pk).update(credentials_encrypted=row.credentials_encrypted)
            # Keep the caller's copy current, so a later save() of it keeps the session.
            self.account.credentials_encrypted = row.credentials_encrypted
            record_system(
                "bluesky",
                Category.ALTERATION,
                "account.session_kept",
                row,
                justification="session renewed" if renewed else "signed in",
            )


def _session_in(credentials: dict[str, Any], fingerprint: str) -> Session | None:
    kept = credentials.get(SESSION_KEY)
    if not isinstance(kept, dict) or kept.get("for") != fingerprint:
        return None
    try:
        return Session.from_answer(kept, "stored session")
    except TransientError:
        return None


def account_credentials(account: NetworkAccount) -> Credentials:
    """The account's Bluesky credentials, with its session kept in the database."""
    plain = Credentials.from_dict(account.get_credentials())
    if account.pk is None:
        return plain
    return replace(plain, store=AccountSessions(account, plain.cache_key))
