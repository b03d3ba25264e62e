"""The UK call grades, shared by triage and cases."""

from django.db import models


class Grade(models.IntegerChoices):
    EMERGENCY = 1, "Grade 1: emergency"
    PRIORITY = 2, "Grade 2: priority"
    SCHEDULED = 3, "Grade 3: scheduled"
    RESOLVED = 4, "Grade 4: resolved without deployment"
