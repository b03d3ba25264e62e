"""The force's accounts on the networks, and what the desk remembers about each."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from django.db import models

from beatdesk.accounts.models import Force, Team, User
from beatdesk.core.home import given_secret, secret_file
from beatdesk.networks.registry import network_choices


class NetworkKind(models.TextChoices):
    """The networks beatdesk ships with, by name for the demo's data and the tests. A kind
    field's choices come from the registry (networks/registry.py), so a network added there
    needs no edit here and no migration."""

    REPLAY = "replay", "Replay (recorded traffic)"
    MASTODON = "mastodon", "Mastodon"
    BLUESKY = "bluesky", "Bluesky"
    X = "x", "X"
    FACEBOOK = "facebook", "Facebook"
    INSTAGRAM = "instagram", "Instagram"
    RSS = "rss", "RSS/Atom"
    EMAIL = "email", "Email"
    WEBFORM = "webform", "Web form"


def _fernet() -> Fernet:
    # BEATDESK_CREDENTIALS_KEY, or the file BEATDESK_CREDENTIALS_KEY_FILE names, or a key
    # under the home made on first use.
    secret = given_secret("BEATDESK_CREDENTIALS_KEY") or secret_file("credentials-key")
    key = base64.urlsafe_b64encode(hashlib.sha256(secret.encode()).digest())
    return Fernet(key)


class NetworkAccount(models.Model):
    """An account the force speaks and listens through: the force's, a team's or an officer's.

    Its credentials are encrypted at rest with a key kept outside the database and are never
    shown, logged or put in the audit log.
    """

    class Scope(models.TextChoices):
        FORCE = "force", "Force account"
        TEAM = "team", "Team account"
        OFFICER = "officer", "Officer account"

    force = models.ForeignKey(Force, on_delete=models.PROTECT, related_name="network_accounts")
    kind = models.CharField(max_length=16, choices=network_choices)
    handle = models.CharField(max_length=200)
    display_name = models.CharField(max_length=200, blank=True)
    scope = models.CharField(max_length=16, choices=Scope.choices, default=Scope.FORCE)
    owning_team = models.ForeignKey(
        Team, on_delete=models.PROTECT, related_name="network_accounts", null=True, blank=True
    )
    owner = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="network_accounts", null=True, blank=True
    )
    credentials_encrypted = models.BinaryField(default=b"", editable=False)
    cursor = models.TextField(blank=True, help_text="Where fetching resumes after a restart.")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "handle"], name="account_unique_handle")
        ]
        ordering = ["kind", "handle"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.handle}"

    def __repr__(self) -> str:
        # Never include credentials, even encrypted, in a repr that may reach a log.
        return f"<NetworkAccount {self.pk} {self.kind}:{self.handle}>"

    def set_credentials(self, credentials: dict[str, Any]) -> None:
        self.credentials_encrypted = _fernet().encrypt(json.dumps(credentials).encode())

    def get_credentials(self) -> dict[str, Any]:
        if not self.credentials_encrypted:
            return {}
        try:
            raw = _fernet().decrypt(bytes(self.credentials_encrypted))
        except InvalidToken as exc:
            raise ValueError(
                f"credentials of {self!r} cannot be decrypted with this installation's key"
            ) from exc
        data: dict[str, Any] = json.loads(raw)
        return data

    @property
    def has_credentials(self) -> bool:
        return bool(self.credentials_encrypted)


class ChannelHealth(models.Model):
    """How one account's connection to its network is doing: the desk's view of "Twitter
    did not respond" — last success, last error, retries and the rate-limit budget left."""

    account = models.OneToOneField(NetworkAccount, on_delete=models.CASCADE, related_name="health")
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_fetched = models.PositiveIntegerField(default=0)
    rate_remaining = models.IntegerField(null=True, blank=True)
    rate_limit = models.IntegerField(null=True, blank=True)
    rate_resets_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"health of {self.account}"
