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
