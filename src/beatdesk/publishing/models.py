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
        RETURNED = "returned", "Returned to the author"
        CHECK = "check", "Check on the network"
        DELETED = "deleted", "Deleted from the network"

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
    queued_at = models.DateTimeField(
        null=True, blank=True, help_text="When its send was last handed to the workers."
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    claimed_at = models.DateTimeField(
        null=True, blank=True, help_text="When a worker began sending: a stuck send is found by it."
    )
    previous_part = models.OneToOneField(
        "self",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="next_part",
        help_text="A thread: this part is posted as a reply to the part before.",
    )
    part = models.PositiveSmallIntegerField(default=1)
    parts = models.PositiveSmallIntegerField(default=1)
    approval_steps = models.JSONField(
        default=list, blank=True, help_text="Roles that approve, in order (from the rule)."
    )
    approvals_done = models.PositiveSmallIntegerField(default=0)
    reminded_on = models.DateField(
        null=True, blank=True, help_text="Appeals: when the desk was last reminded to review."
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Post {self.pk} ({self.status})"

    @property
    def next_approver_role(self) -> str:
        """The role whose approval the post waits for, or "" when none is needed."""
        if self.status != self.Status.AWAITING_APPROVAL:
            return ""
        steps = list(self.approval_steps or [])
        return steps[self.approvals_done] if self.approvals_done < len(steps) else ""


class PostMedia(models.Model):
    """An image attached to a post, with the alt text that describes it to screen readers."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="media")
    filename = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    data = models.BinaryField()
    alt_text = models.TextField()

    def __str__(self) -> str:
        return self.filename


class PostVersion(models.Model):
    """What a group of posts said at one moment (submitted, edited, approved), so approvers
    see what changed since the last version anyone submitted or approved."""

    group = models.CharField(max_length=32, db_index=True)
    number = models.PositiveIntegerField()
    texts = models.JSONField(help_text="Account handle (network) -> the text of its post.")
    action = models.CharField(max_length=32)
    by = models.ForeignKey(User, on_delete=models.PROTECT, null=True, related_name="+")
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["group", "number"]
        constraints = [
            models.UniqueConstraint(fields=["group", "number"], name="post_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.group} v{self.number} ({self.action})"


class ApprovalRule(models.Model):
    """Who must approve a post before it goes out: for posts by authors in a role, on an
    account or on accounts of a scope, optionally of one kind, the approver roles in order
    (a PCSO on the force account: a supervisor; a result: a supervisor then an administrator).
    The first matching rule by position applies; no match means no approval is needed."""

    force = models.ForeignKey(Force, on_delete=models.CASCADE, related_name="approval_rules")
    position = models.PositiveIntegerField(default=100)
    name = models.CharField(max_length=200)
    author_role = models.CharField(max_length=20, blank=True, help_text="Empty: any role.")
    account = models.ForeignKey(
        NetworkAccount, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    account_scope = models.CharField(
        max_length=16, blank=True, choices=NetworkAccount.Scope.choices, help_text="Empty: any."
    )
    post_kind = models.CharField(
        max_length=16, blank=True, choices=Post.Kind.choices, help_text="Empty: any kind."
    )
    steps = models.JSONField(help_text="Approver roles, in order.")

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.name


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
