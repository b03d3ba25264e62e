"""The force and the people who work its desk."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models


class Force(models.Model):
    """A police force: the organisation that owns this desk, its accounts and its records."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(unique=True)
    reference_prefix = models.CharField(
        max_length=8, default="BD", help_text="Prefix of case reference numbers, as BD-2026-000123."
    )
    non_emergency_number = models.CharField(max_length=32, default="101")
    online_reporting_url = models.URLField(blank=True)

    class EmergencyReply(models.TextChoices):
        OFF = "off", "No automatic reply"
        DRAFT = "draft", "Draft a reply for the desk to send"
        SEND = "send", "Send the reply at once"

    banned_words = models.TextField(blank=True, help_text="One a line: never published.")
    charged_names = models.TextField(
        blank=True, help_text="People charged (one a line): sub judice, never named freely."
    )
    publishing_paused = models.BooleanField(
        default=False, help_text="Emergency stop: nothing queued or scheduled goes out."
    )
    emergency_reply = models.CharField(
        max_length=8, choices=EmergencyReply.choices, default=EmergencyReply.DRAFT
    )
    emergency_reply_text = models.TextField(
        default=(
            "If this is happening now or someone is in danger, please call 999 straight away. "
            "Social media is not monitored for emergencies at all times."
        )
    )

    def __str__(self) -> str:
        return self.name


class Area(models.Model):
    """A neighbourhood the force polices, known by its postcode districts and place names."""

    force = models.ForeignKey(Force, on_delete=models.PROTECT, related_name="areas")
    name = models.CharField(max_length=200)
    slug = models.SlugField()
    postcode_districts = models.JSONField(default=list, blank=True)
    place_names = models.JSONField(default=list, blank=True)
    outline = models.JSONField(
        null=True, blank=True, help_text="GeoJSON polygon of the area, where the force has one."
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["force", "slug"], name="area_unique_slug")]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Team(models.Model):
    """A team whose queue messages are routed to: the digital desk, a neighbourhood team, …"""

    class Kind(models.TextChoices):
        DIGITAL_DESK = "digital_desk", "Digital desk"
        NEIGHBOURHOOD = "neighbourhood", "Neighbourhood policing team"
        PROFESSIONAL_STANDARDS = "professional_standards", "Professional standards"
        CORPORATE_COMMS = "corporate_comms", "Corporate communications"
        INVESTIGATIONS = "investigations", "Investigations"
        OTHER = "other", "Other"

    force = models.ForeignKey(Force, on_delete=models.PROTECT, related_name="teams")
    name = models.CharField(max_length=200)
    slug = models.SlugField()
    kind = models.CharField(max_length=32, choices=Kind.choices)
    area = models.ForeignKey(
        Area, on_delete=models.PROTECT, null=True, blank=True, related_name="teams"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["force", "slug"], name="team_unique_slug")]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    OFFICER = "officer", "Officer / PCSO"
    DESK_OPERATOR = "desk_operator", "Desk operator"
    SUPERVISOR = "supervisor", "Supervisor"
    ANALYST = "analyst", "Analyst"
    ADMINISTRATOR = "administrator", "Administrator"
    ADVISER = "adviser", "Community adviser"


STAFF_ROLES = frozenset(
    {Role.OFFICER, Role.DESK_OPERATOR, Role.SUPERVISOR, Role.ANALYST, Role.ADMINISTRATOR}
)


class User(AbstractUser):
    """A person who signs in: a member of staff with a role, or an invited community adviser.

    Advisers (IAG members) are not staff: they see only the spaces they are invited to.
    """

    force = models.ForeignKey(
        Force, on_delete=models.PROTECT, null=True, blank=True, related_name="users"
    )
    role = models.CharField(max_length=32, choices=Role.choices, default=Role.OFFICER)
    teams = models.ManyToManyField(Team, blank=True, related_name="members")
    collar_number = models.CharField(max_length=16, blank=True)
    on_shift = models.BooleanField(
        default=False, help_text="Takes new work from auto-assignment while on shift."
    )
    capacity = models.PositiveSmallIntegerField(
        default=8, help_text="How many messages this person can have in hand at once."
    )

    @property
    def is_staff_role(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username


class UserSession(models.Model):
    """A signed-in session, kept so that disabling an account ends its sessions at once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="signed_in_sessions")
    session_key = models.CharField(max_length=64, unique=True)
    started_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"session of user {self.user_id}"
