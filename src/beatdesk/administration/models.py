"""Invitations: how a new member of staff first gets into the desk."""

from __future__ import annotations

import hashlib

from django.db import models
from django.utils import timezone

from beatdesk.accounts.models import Force, User


def token_digest(token: str) -> str:
    # Only the digest is stored: a copy of the database opens no invitation.
    return hashlib.sha256(token.encode()).hexdigest()


class Invitation(models.Model):
    """An invitation to join the desk: a one-time link mailed to a new member of staff, who
    chooses a password and enrols an authenticator app through it. Valid for 72 hours."""

    force = models.ForeignKey(Force, on_delete=models.CASCADE, related_name="invitations")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="invitations")
    token_sha256 = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, related_name="invitations_sent"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    # Set once the mail server took the mail; empty when it refused it (send a new one).
    mailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"invitation of user {self.user_id}"

    @property
    def is_open(self) -> bool:
        return self.accepted_at is None and self.expires_at > timezone.now()
