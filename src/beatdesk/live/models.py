"""Live-event streams (#gmp24, #bsp24), and the reach of what the force publishes."""

from __future__ import annotations

from django.db import models

from beatdesk.networks.models import NetworkAccount


class ReachSnapshot(models.Model):
    """How far a published post had gone when the network was last asked: its views where the
    network counts them, and its reposts, likes and replies."""

    post = models.ForeignKey(
        "publishing.Post", on_delete=models.CASCADE, related_name="reach_snapshots"
    )
    taken_at = models.DateTimeField(db_index=True)
    impressions = models.PositiveIntegerField(null=True, blank=True)
    reposts = models.PositiveIntegerField(default=0)
    likes = models.PositiveIntegerField(default=0)
    replies = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["post", "taken_at"]

    def __str__(self) -> str:
        return f"reach of post {self.post_id} at {self.taken_at:%H:%M}"


class FollowerSnapshot(models.Model):
    """An account's follower count at one moment, for 'followers went from 70 to 1,000'."""

    account = models.ForeignKey(
        NetworkAccount, on_delete=models.CASCADE, related_name="follower_snapshots"
    )
    taken_at = models.DateTimeField(db_index=True)
    followers = models.PositiveIntegerField()

    class Meta:
        ordering = ["account", "taken_at"]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.followers} at {self.taken_at:%H:%M}"


class LiveEvent(models.Model):
    """A live-event stream such as #gmp24 or #bsp24: for a set period, every incident in the
    log becomes a numbered, redacted post under the event's hashtag, approved one click at a
    time and spaced out by the pacing."""

    force = models.ForeignKey(
        "accounts.Force", on_delete=models.PROTECT, related_name="live_events"
    )
    name = models.CharField(max_length=200)
    hashtag = models.CharField(max_length=100, help_text="With the #, as posted: #bsp24.")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    accounts = models.ManyToManyField(NetworkAccount, related_name="live_events")
    pacing_minutes = models.PositiveSmallIntegerField(
        default=2, help_text="At least this many minutes between two posts on one account."
    )
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    # The command-and-control system's bearer token, as a SHA-256 digest: shown once, never kept.
    intake_token_hash = models.CharField(max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_at"]

    def __str__(self) -> str:
        return f"{self.hashtag} {self.name}"


class LiveEntry(models.Model):
    """One line of the incident log during a live event, as the control room wrote it, with
    the redacted, numbered text that is published for it."""

    class Source(models.TextChoices):
        CSV = "csv", "Imported incident log"
        HTTP = "http", "Command and control"

    event = models.ForeignKey(LiveEvent, on_delete=models.CASCADE, related_name="entries")
    number = models.PositiveIntegerField()
    occurred_at = models.DateTimeField()
    type = models.CharField(max_length=200)
    location = models.CharField(max_length=300, blank=True)
    summary = models.TextField(blank=True)
    outcome = models.TextField(blank=True)
    raw = models.JSONField(default=dict, help_text="The row or record as it arrived.")
    text = models.TextField(help_text="The redacted, numbered post.")
    source = models.CharField(max_length=8, choices=Source.choices)
    # The row's digest (CSV) or the command-and-control reference (HTTP): a second import
    # of the same log adds nothing.
    reference = models.CharField(max_length=200)
    posts = models.ManyToManyField("publishing.Post", related_name="live_entries", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["event", "number"]
        constraints = [
            models.UniqueConstraint(fields=["event", "number"], name="live_entry_unique_number"),
            models.UniqueConstraint(
                fields=["event", "source", "reference"], name="live_entry_unique_reference"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event.hashtag} {self.number}"
