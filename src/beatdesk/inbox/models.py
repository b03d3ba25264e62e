"""What the public sends the force: raw deliveries, messages and conversations."""

from __future__ import annotations

from django.db import models

from beatdesk.accounts.models import Area, Team
from beatdesk.networks.models import NetworkAccount
from beatdesk.networks.registry import network_choices


class InboundPayload(models.Model):
    """A delivery exactly as a network handed it over, stored before anything else happens.

    If it cannot be understood it stays here, verbatim, with the error (the dead letters);
    nothing that arrived is ever lost.
    """

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        STORED = "stored", "Stored as a new message"
        DUPLICATE = "duplicate", "Duplicate of a stored message"
        OWN = "own", "The force's own post, not taken in"
        FAILED = "failed", "Could not be read"

    network = models.CharField(max_length=16, choices=network_choices)
    account = models.ForeignKey(NetworkAccount, on_delete=models.PROTECT, related_name="+")
    body = models.TextField(
        help_text="The delivery as text; where its bytes were not storable text (not UTF-8, "
        "a NUL, half an emoji) a readable copy with U+FFFD, the bytes kept in body_bytes."
    )
    body_bytes = models.BinaryField(
        null=True,
        blank=True,
        editable=False,
        help_text="The delivery's exact bytes, kept only when body is not exactly them.",
    )
    sha256 = models.CharField(max_length=64, help_text="SHA-256 of the exact bytes.")
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RECEIVED)
    error = models.TextField(blank=True)
    message = models.ForeignKey(
        "Message", on_delete=models.SET_NULL, null=True, blank=True, related_name="deliveries"
    )

    class Meta:
        indexes = [models.Index(fields=["status", "received_at"], name="payload_status_idx")]

    def __str__(self) -> str:
        return f"payload {self.pk} ({self.status})"


class Conversation(models.Model):
    """A thread on one network: the messages that reply to one another, and the force's replies.

    It is a conversation, not a profile of the person.
    """

    network = models.CharField(max_length=16, choices=network_choices)
    account = models.ForeignKey(NetworkAccount, on_delete=models.PROTECT, related_name="+")
    thread_key = models.CharField(max_length=200)
    started_at = models.DateTimeField()
    last_message_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["network", "account", "thread_key"], name="conversation_unique_thread"
            )
        ]

    def __str__(self) -> str:
        return f"{self.network} thread {self.thread_key}"


class Message(models.Model):
    """A public message to the force — a mention, reply, direct message, comment or email —
    normalised from whichever network it came through. Stored once per (network, external id).
    """

    network = models.CharField(max_length=16, choices=network_choices)
    external_id = models.CharField(max_length=200)
    via = models.CharField(
        max_length=16,
        choices=network_choices,
        help_text="The connector that delivered it (replay for recorded traffic).",
    )
    account = models.ForeignKey(NetworkAccount, on_delete=models.PROTECT, related_name="messages")
    author_handle = models.CharField(max_length=200)
    author_name = models.CharField(max_length=200, blank=True)
    text = models.TextField()
    language = models.CharField(max_length=16, blank=True)
    created_at = models.DateTimeField(db_index=True)
    received_at = models.DateTimeField(db_index=True)
    reply_to_external_id = models.CharField(max_length=200, blank=True)
    thread_id = models.CharField(max_length=200, blank=True)
    conversation = models.ForeignKey(
        Conversation, on_delete=models.PROTECT, related_name="messages", null=True, blank=True
    )
    attachments = models.JSONField(default=list, blank=True)
    raw = models.TextField(help_text="The payload verbatim, as the network sent it.")
    raw_sha256 = models.CharField(max_length=64)
    team = models.ForeignKey(
        Team, on_delete=models.PROTECT, related_name="messages", null=True, blank=True
    )
    area = models.ForeignKey(
        Area, on_delete=models.PROTECT, related_name="messages", null=True, blank=True
    )
    routing_reason = models.CharField(max_length=300, blank=True)
    routed_at = models.DateTimeField(null=True, blank=True)

    class State(models.TextChoices):
        OPEN = "open", "Open"
        CLAIMED = "claimed", "In hand"
        SNOOZED = "snoozed", "Snoozed"
        CLOSED = "closed", "Closed"

    class Outcome(models.TextChoices):
        ANSWERED = "answered", "Answered"
        REFERRED_101 = "referred_101", "Referred to 101 or online reporting"
        CRIME_RECORDED = "crime_recorded", "Crime recorded"
        NO_ACTION = "no_action", "No action needed"
        ABUSE_HIDDEN = "abuse_hidden", "Abuse hidden or blocked"

    state = models.CharField(max_length=16, choices=State.choices, default=State.OPEN)
    assignee = models.ForeignKey(
        "accounts.User",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_messages",
    )
    snoozed_until = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True)
    outcome_reference = models.CharField(
        max_length=64, blank=True, help_text="The force's crime or incident number, if any."
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(
        null=True, blank=True, db_index=True, help_text="When the force's response target falls."
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["network", "external_id"], name="message_unique_network_external_id"
            )
        ]
        indexes = [
            models.Index(fields=["-received_at", "-id"], name="message_newest_idx"),
            models.Index(fields=["team", "-received_at"], name="message_team_idx"),
            models.Index(fields=["state", "assignee"], name="message_work_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.network}:{self.external_id}"


class ResponseTarget(models.Model):
    """How soon the force promises to acknowledge a message of each grade, for example
    grade 1 within 5 minutes, grade 2 within an hour, grade 3 within a day."""

    force = models.ForeignKey(
        "accounts.Force", on_delete=models.CASCADE, related_name="response_targets"
    )
    grade = models.PositiveSmallIntegerField()
    minutes = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["force", "grade"], name="target_unique_grade")
        ]
        ordering = ["grade"]

    def __str__(self) -> str:
        return f"grade {self.grade}: {self.minutes} min"


class Escalation(models.Model):
    """A message whose response target passed with nobody acknowledging it: put in front of
    the supervisors until one of them takes it up."""

    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="escalation")
    escalated_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"escalation of message {self.message_id}"


class BulkOperation(models.Model):
    """One surge action on many messages at once, kept so it can be undone for a while."""

    user = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=32)
    description = models.CharField(max_length=300)
    before = models.JSONField(help_text="Each message's state before: id -> fields.")
    created_at = models.DateTimeField()
    undone_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.description
