"""Posts: what the force publishes. The publishing issue fills in drafts, checks and approvals."""

from __future__ import annotations

from django.db import models

from beatdesk.accounts.models import Force, User
from beatdesk.networks.models import NetworkAccount


class Post(models.Model):
    """An outbound post or reply from one of the force's accounts."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        AWAITING_APPROVAL = "awaiting_approval", "Awaiting approval"
        SCHEDULED = "scheduled", "Scheduled"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    force = models.ForeignKey(Force, on_delete=models.PROTECT, related_name="posts")
    account = models.ForeignKey(NetworkAccount, on_delete=models.PROTECT, related_name="posts")
    author = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        related_name="posts",
        null=True,
        blank=True,
        help_text="Empty for replies the desk drafts by itself (the 999 reply).",
    )
    text = models.TextField()
    in_reply_to = models.ForeignKey(
        "inbox.Message", on_delete=models.PROTECT, null=True, blank=True, related_name="replies"
    )

    class Kind(models.TextChoices):
        APPEAL = "appeal", "Appeal (witness, missing, wanted)"
        PREVENTION = "prevention", "Crime prevention"
        EVENT = "event", "Event notice"
        RESULT = "result", "Result (arrest, charge, sentence)"
        LIVE = "live", "Live-event update"
        UPDATE = "update", "Update"
        REPLY = "reply", "Reply"

    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.REPLY)
    group = models.CharField(
        max_length=32, blank=True, db_index=True, help_text="Posts written once for many accounts."
    )
    review_on = models.DateField(
        null=True, blank=True, help_text="Appeals: when the desk is reminded to update or withdraw."
    )
    overrides = models.JSONField(
        default=list, blank=True, help_text="Checks overridden before sending, by whom."
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    internal = models.BooleanField(
        default=False, help_text="An internal note: kept in the desk, never sent."
    )
    error = models.CharField(max_length=500, blank=True)
    idempotency_key = models.CharField(max_length=64, unique=True)
    # Indexed: every inbound delivery asks whether it is our own post coming back.
    external_id = models.CharField(max_length=200, blank=True, db_index=True)
    scheduled_for = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Post {self.pk} ({self.status})"


class ReplyTemplate(models.Model):
    """A canned reply the force has agreed, with fields filled in when used: {author},
    {officer}, {reference}, {non_emergency}, {online_reporting}."""

    force = models.ForeignKey(Force, on_delete=models.CASCADE, related_name="reply_templates")
    name = models.CharField(max_length=100)
    text = models.TextField()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
