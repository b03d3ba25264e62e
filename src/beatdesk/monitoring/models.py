"""Monitoring: watches with a lawful purpose, and the public posts they collect.

A watch collects public posts on a hashtag, keyword, phrase or place for one operation,
with a purpose, an owner and a mandatory expiry, once a supervisor has approved it. What it
collects is kept apart from the inbox and deleted when the operation's retention ends,
unless a case holds it. A watch on a person (their handle or name) is never allowed.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q

from beatdesk.accounts.models import Force, User
from beatdesk.core.clock import now
from beatdesk.monitoring.rules import watch_problems
from beatdesk.networks.models import NetworkAccount
from beatdesk.networks.registry import network_choices


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

    @property
    def retention_ended(self) -> bool:
        return self.retention_until <= now()


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
    network = models.CharField(max_length=16, choices=network_choices)
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
    decision_reason = models.TextField(
        blank=True, help_text="Why the supervisor approved, refused or stopped the watch."
    )
    last_collected_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(
        null=True, blank=True, help_text="Backing off after a failure (a rate limit, a 5xx)."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["operation", "name"], name="watch_unique_name"),
            # A watch without a purpose, or one that never ends, cannot be stored at all.
            models.CheckConstraint(condition=~Q(purpose=""), name="watch_has_purpose"),
            models.CheckConstraint(
                condition=Q(expires_at__gt=F("starts_at")), name="watch_expires_after_start"
            ),
        ]
        ordering = ["operation", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_network_display()} {self.query})"

    def clean(self) -> None:
        """The rules every watch keeps, whoever saves it (see monitoring.rules)."""
        problems = watch_problems(
            network=self.network,
            kind=self.kind,
            query=self.query,
            purpose=self.purpose,
            has_owner=self.owner_id is not None,
            starts_at=self.starts_at,
            expires_at=self.expires_at,
        )
        if problems:
            raise ValidationError(problems)

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= now()

    @property
    def is_collecting(self) -> bool:
        """Approved, started and not yet expired: the only state in which it collects."""
        at = now()
        return self.status == self.Status.ACTIVE and self.starts_at <= at < self.expires_at

    @property
    def state(self) -> str:
        """What the desk shows: awaiting approval, refused, stopped, expired, starts later,
        collecting."""
        if self.status != self.Status.ACTIVE:
            return self.get_status_display().lower()
        if self.is_expired:
            return "expired"
        if self.operation.retention_ended:
            return "retention ended"
        if self.starts_at > now():
            return "approved, not started"
        return "collecting"

    @property
    def time_left(self) -> dt.timedelta:
        return max(self.expires_at - now(), dt.timedelta(0))


class WatchPost(models.Model):
    """A public post a watch collected: raw as the network sent it, and normalised."""

    watch = models.ForeignKey(Watch, on_delete=models.CASCADE, related_name="posts")
    network = models.CharField(max_length=16, choices=network_choices)
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


class UnreadableItem(models.Model):
    """An item a watch's network sent that could not be read: a dead letter, kept verbatim
    with the reason as the inbox keeps its own, until it is read again after a fix. It goes
    with the watch's operation at retention, as the watch's posts do."""

    watch = models.ForeignKey(Watch, on_delete=models.CASCADE, related_name="unreadable_items")
    network = models.CharField(max_length=16, choices=network_choices)
    body = models.TextField()
    sha256 = models.CharField(max_length=64)
    error = models.TextField()
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(
        null=True, blank=True, help_text="When it was read again and stored as a post."
    )
    watch_post = models.ForeignKey(
        WatchPost, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["watch", "sha256"], name="unreadable_item_once")
        ]

    def __str__(self) -> str:
        return f"unreadable {self.network} item for watch {self.watch_id}"
