"""Cases: the desk's unit of work when a message needs more than a reply."""

from __future__ import annotations

from django.db import models

from beatdesk.accounts.models import Force, Team, User
from beatdesk.core.grades import Grade
from beatdesk.inbox.models import Message


class ReferenceCounter(models.Model):
    """The last case number issued in a year, so references run BD-2026-000001, 000002, …"""

    force = models.ForeignKey(Force, on_delete=models.CASCADE)
    year = models.PositiveIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["force", "year"], name="refcounter_unique_year")
        ]

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


class Case(models.Model):
    """A case: one or more messages the desk is working on together, with a reference number
    the public can quote, a grade, an owner, and a legal hold when it may be evidence (CPIA).
    """

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        IN_PROGRESS = "in_progress", "In progress"
        AWAITING_REPLY = "awaiting_reply", "Awaiting reply"
        CLOSED = "closed", "Closed"

    Grade = Grade

    force = models.ForeignKey(Force, on_delete=models.PROTECT, related_name="cases")
    reference = models.CharField(max_length=32)  # unique within the force (Meta)
    title = models.CharField(max_length=200)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    grade = models.PositiveSmallIntegerField(choices=Grade.choices, default=Grade.SCHEDULED)
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="cases")
    assignee = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="assigned_cases", null=True, blank=True
    )
    messages = models.ManyToManyField(Message, related_name="cases", blank=True)
    force_references = models.CharField(
        max_length=300,
        blank=True,
        help_text="The force's crime or incident numbers (Storm, Niche, Athena), as written.",
    )
    legal_hold = models.BooleanField(default=False)
    legal_hold_reason = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["force", "reference"], name="case_reference_in_force")
        ]

    def __str__(self) -> str:
        return self.reference


class CaseNote(models.Model):
    """An internal note on a case: for colleagues only, never sent to any network."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"note on {self.case_id}"
