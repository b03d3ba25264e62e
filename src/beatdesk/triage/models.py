"""The machine's reading of each message, the routing rules supervisors keep, the labels
staff give when they correct the machine, and grade-1 alerts."""

from __future__ import annotations

from django.db import models

from beatdesk.accounts.models import Area, Force, Team, User
from beatdesk.core.grades import Grade
from beatdesk.inbox.models import Message
from beatdesk.networks.models import NetworkAccount


class ContactType(models.TextChoices):
    EMERGENCY = "emergency", "Emergency"
    CRIME_REPORT = "crime_report", "Crime report"
    INFORMATION = "information", "Information"
    REQUEST = "request", "Request"
    COMPLAINT = "complaint", "Complaint"
    COMPLIMENT = "compliment", "Compliment"
    ABUSE = "abuse", "Abuse"
    OTHER = "other", "Other"


class Triage(models.Model):
    """How the desk first reads a message — what kind of contact it is, how urgent (the UK
    call grade) and why, its language, abuse, personal data, rumour signal and relevance —
    and where routing sent it. Staff can correct the type and grade."""

    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="triage")
    contact_type = models.CharField(max_length=16, choices=ContactType.choices, db_index=True)
    contact_confidence = models.FloatField(default=0.0)
    grade = models.PositiveSmallIntegerField(choices=Grade.choices, db_index=True)
    reasons = models.JSONField(default=list)
    language = models.CharField(max_length=8, blank=True)
    abusive = models.BooleanField(default=False)
    abuse_score = models.FloatField(default=0.0)
    # When the stronger abuse model read it again (only messages the fast reading was unsure of).
    abuse_reread_at = models.DateTimeField(null=True, blank=True)
    personal_data = models.JSONField(
        default=list, help_text="Spans [start, end, kind] of personal data in the text."
    )
    rumour_score = models.FloatField(default=0.0)
    relevance = models.FloatField(default=0.0)
    routing_rule = models.ForeignKey(
        "RoutingRule", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    model_version = models.CharField(max_length=40, blank=True)
    corrected = models.BooleanField(default=False)
    triaged_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.contact_type} grade {self.grade}"

    @property
    def has_personal_data(self) -> bool:
        return bool(self.personal_data)


class RoutingRule(models.Model):
    """A supervisor's rule for which team's queue a message goes to. Rules are tried in
    order and the first whose conditions all hold wins; empty conditions match anything."""

    force = models.ForeignKey(Force, on_delete=models.CASCADE, related_name="routing_rules")
    position = models.PositiveIntegerField(default=100)
    name = models.CharField(max_length=120)
    is_active = models.BooleanField(default=True)
    areas = models.ManyToManyField(Area, blank=True, related_name="+")
    accounts = models.ManyToManyField(NetworkAccount, blank=True, related_name="+")
    hashtags = models.JSONField(default=list, blank=True)
    contact_types = models.JSONField(default=list, blank=True)
    max_grade = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Match grades up to and including this one."
    )
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="+")
    updated_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class TriageCorrection(models.Model):
    """A member of staff saying the machine got a message's contact type or grade wrong.
    Each correction is a training label for `beatdesk triage retrain`."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="corrections")
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    contact_type_before = models.CharField(max_length=16, choices=ContactType.choices)
    contact_type = models.CharField(max_length=16, choices=ContactType.choices)
    grade_before = models.PositiveSmallIntegerField(choices=Grade.choices)
    grade = models.PositiveSmallIntegerField(choices=Grade.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.contact_type_before}/{self.grade_before} → {self.contact_type}/{self.grade}"


class Alert(models.Model):
    """A grade-1 message shown at the top of every desk operator's screen until someone
    acknowledges it."""

    force = models.ForeignKey(Force, on_delete=models.CASCADE, related_name="alerts")
    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="alert")
    raised_at = models.DateTimeField(db_index=True)
    acknowledged_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"alert for message {self.message_id}"
