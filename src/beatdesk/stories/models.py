"""Stories, spikes and the rumour register.

A story is one claim or event told many times: the near-duplicates and paraphrases among
incoming posts (inbox messages, and the public posts an operation's watches collect). A
spike is a watch or a hashtag suddenly running far above its own recent volume. A rumour is
a story the desk has decided to follow: its status, owner, evidence and the rebuttal.
"""

from __future__ import annotations

from django.db import models

from beatdesk.accounts.models import Force, User


class Story(models.Model):
    """A claim or event told in many posts, clustered as they arrive. Inbox stories belong to
    the force; stories of watch posts belong to the operation and go with its posts."""

    force = models.ForeignKey(Force, on_delete=models.CASCADE, related_name="stories")
    operation = models.ForeignKey(
        "monitoring.Operation",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="stories",
    )
    first_seen = models.DateTimeField(db_index=True)
    last_seen = models.DateTimeField(db_index=True)
    size = models.PositiveIntegerField(default=0)
    centroid = models.JSONField(
        default=list, help_text="[[term hash, weight], …]: the story's heaviest terms."
    )
    phrasings = models.JSONField(
        default=list, help_text="[[fingerprint, text, count], …]: how the story is told."
    )
    networks = models.JSONField(default=dict)
    languages = models.JSONField(default=dict)
    rumour_total = models.FloatField(
        default=0.0, help_text="Sum of the members' rumour scores (the triage rumour signal)."
    )
    cue_posts = models.PositiveIntegerField(
        default=0, help_text="Members asking, denying or hedging (is it true, reportedly, hoax…)."
    )
    candidate_since = models.DateTimeField(
        null=True, blank=True, help_text="When the desk first proposed it as a rumour."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["force", "operation", "-last_seen"], name="story_scope_idx")
        ]
        ordering = ["-last_seen"]
        verbose_name_plural = "stories"

    def __str__(self) -> str:
        return self.headline

    @property
    def headline(self) -> str:
        return self.phrasings[0][1] if self.phrasings else f"story {self.pk}"

    @property
    def rumour_score(self) -> float:
        return self.rumour_total / self.size if self.size else 0.0


class StoryMember(models.Model):
    """One post in a story: an inbox message or a watch post (deleted with it)."""

    story = models.ForeignKey(Story, on_delete=models.CASCADE, related_name="members")
    message = models.ForeignKey(
        "inbox.Message", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    watch_post = models.ForeignKey(
        "monitoring.WatchPost", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    posted_at = models.DateTimeField()
    similarity = models.FloatField(default=1.0)

    class Meta:
        indexes = [models.Index(fields=["story", "posted_at"], name="storymember_time_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(message__isnull=False) | models.Q(watch_post__isnull=False),
                name="storymember_has_post",
            )
        ]

    def __str__(self) -> str:
        return f"member of story {self.story_id}"


class VolumeBucket(models.Model):
    """How many posts a watch, or a hashtag within an operation, had in one 5-minute bucket:
    the series spikes are measured on."""

    operation = models.ForeignKey(
        "monitoring.Operation", on_delete=models.CASCADE, related_name="volume_buckets"
    )
    watch = models.ForeignKey(
        "monitoring.Watch", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    term = models.CharField(max_length=100, blank=True)
    key = models.CharField(max_length=120, help_text='"watch:<id>" or "term:<hashtag>".')
    start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["operation", "key", "start"], name="volumebucket_unique"
            )
        ]
        indexes = [models.Index(fields=["operation", "start"], name="volumebucket_time_idx")]

    def __str__(self) -> str:
        return f"{self.term or self.watch_id} at {self.start:%H:%M}: {self.count}"


class Spike(models.Model):
    """A watch or a hashtag running far above its own recent volume, with the posts that
    made it. Alerted once, however long it lasts."""

    operation = models.ForeignKey(
        "monitoring.Operation", on_delete=models.CASCADE, related_name="spikes"
    )
    watch = models.ForeignKey(
        "monitoring.Watch", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    term = models.CharField(max_length=100, blank=True)
    key = models.CharField(max_length=120, help_text='"watch:<id>" or "term:<hashtag>".')
    started_at = models.DateTimeField(help_text="Start of the first bucket above the baseline.")
    last_bucket = models.DateTimeField(help_text="Start of the latest bucket above it.")
    peak = models.PositiveIntegerField(help_text="Most posts in one 5-minute bucket.")
    baseline = models.FloatField(help_text="Median posts per bucket over the baseline window.")
    score = models.FloatField(help_text="Robust z-score of the peak bucket.")
    posts = models.ManyToManyField("monitoring.WatchPost", blank=True, related_name="+")
    detected_at = models.DateTimeField()
    emailed_at = models.DateTimeField(null=True, blank=True)
    webhook_at = models.DateTimeField(null=True, blank=True)
    alert_error = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["operation", "key", "started_at"], name="spike_unique_start"
            )
        ]
        ordering = ["-detected_at"]

    def __str__(self) -> str:
        return f"spike on {self.subject} at {self.started_at:%H:%M}"

    @property
    def subject(self) -> str:
        return f"#{self.term}" if self.term else str(self.watch.name if self.watch else "")


class Rumour(models.Model):
    """A story the desk follows as a rumour: what is claimed, how far it is verified, who
    owns it, the evidence and the force's rebuttal. Kept after its story's posts are gone."""

    class Status(models.TextChoices):
        UNVERIFIED = "unverified", "Unverified"
        CHECKING = "checking", "Checking"
        FALSE = "false", "False"
        TRUE = "true", "True"
        PARTLY_TRUE = "partly_true", "Partly true"

    force = models.ForeignKey(Force, on_delete=models.CASCADE, related_name="rumours")
    story = models.OneToOneField(
        Story, on_delete=models.SET_NULL, null=True, blank=True, related_name="rumour"
    )
    claim = models.CharField(max_length=300)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.UNVERIFIED)
    owner = models.ForeignKey(User, on_delete=models.PROTECT, related_name="rumours_owned")
    rebuttal = models.ForeignKey(
        "publishing.Post", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-updated_at"]

    def __str__(self) -> str:
        return self.claim


class RumourNote(models.Model):
    """A piece of evidence or reasoning about a rumour. Notes are only ever added."""

    rumour = models.ForeignKey(Rumour, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    text = models.TextField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"note on rumour {self.rumour_id}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None:
            raise ValueError("rumour notes are append-only")
        super().save(*args, **kwargs)  # type: ignore[arg-type]
