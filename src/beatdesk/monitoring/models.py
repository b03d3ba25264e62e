"""Monitoring: watches with a lawful purpose, and the public posts they collect.

A watch collects public posts on a hashtag, keyword, phrase or place for one operation,
with a purpose, an owner and a mandatory expiry, once a supervisor has approved it. What it
collects is kept apart from the inbox and deleted when the operation's retention ends,
unless a case holds it. A watch on a person (their handle or name) is never allowed.
"""

from __future__ import annotations

from django.db import models

from beatdesk.accounts.models import Force, User
from beatdesk.networks.models import NetworkAccount, NetworkKind


class Operation(models.Model):
    """A policing operation or event the desk monitors (a march, a festival, a disorder)."""

    force = models.ForeignKey(Force, on_delete=models.PROTECT, related_name="operations")
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(User, on_delete=models.PROTECT, related_name="operations_owned")
    retention_until = models.DateTimeField(
        help_text="When everything collected for the operation is deleted (unless a case holds it)."
    )
    area_outline = models.JSONField(
        default=list, blank=True, help_text="[[lat, lon], …]: the area drawn on the board's map."
    )
    alert_email = models.EmailField(blank=True, help_text="Spike alerts by email to this address.")
    alert_webhook = models.URLField(blank=True, help_text="Spike alerts POSTed here as JSON.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["force", "name"], name="operation_unique_name")
        ]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name


class Watch(models.Model):
    """One term watched on one network for one operation."""

    class Kind(models.TextChoices):
        HASHTAG = "hashtag", "Hashtag"
        KEYWORD = "keyword", "Keyword"
        PHRASE = "phrase", "Phrase"
        PLACE = "place", "Place"
        FEED = "feed", "News feed (RSS/Atom)"

    class Status(models.TextChoices):
        AWAITING_APPROVAL = "awaiting_approval", "Awaiting approval"
        ACTIVE = "active", "Approved"
        REFUSED = "refused", "Refused"
        STOPPED = "stopped", "Stopped"

    operation = models.ForeignKey(Operation, on_delete=models.PROTECT, related_name="watches")
    name = models.CharField(max_length=120)
    network = models.CharField(max_length=16, choices=NetworkKind.choices)
    account = models.ForeignKey(
        NetworkAccount,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="watches",
        help_text="The force account whose access searches the network.",
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    query = models.CharField(max_length=500)
    purpose = models.TextField()
    owner = models.ForeignKey(User, on_delete=models.PROTECT, related_name="watches_owned")
    starts_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.AWAITING_APPROVAL
    )
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    approved_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    cursor = models.TextField(blank=True, help_text="Where collecting resumes after a restart.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["operation", "name"], name="watch_unique_name")
        ]
        ordering = ["operation", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_network_display()} {self.query})"


class WatchPost(models.Model):
    """A public post a watch collected: raw as the network sent it, and normalised."""

    watch = models.ForeignKey(Watch, on_delete=models.CASCADE, related_name="posts")
    network = models.CharField(max_length=16, choices=NetworkKind.choices)
    external_id = models.CharField(max_length=200)
    author_handle = models.CharField(max_length=200, blank=True)
    text = models.TextField()
    language = models.CharField(max_length=16, blank=True)
    posted_at = models.DateTimeField(db_index=True)
    collected_at = models.DateTimeField(auto_now_add=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    raw = models.TextField()
    sha256 = models.CharField(max_length=64)
    held_by_case = models.ForeignKey(
        "cases.Case", on_delete=models.SET_NULL, null=True, blank=True, related_name="watch_posts"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["watch", "network", "external_id"], name="watchpost_unique_item"
            )
        ]
        indexes = [models.Index(fields=["watch", "posted_at"], name="watchpost_time_idx")]

    def __str__(self) -> str:
        return f"{self.network}:{self.external_id}"
