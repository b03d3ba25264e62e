"""Reading alerts and routing rules for the desk."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet

from beatdesk.accounts.policy import reads_force_wide
from beatdesk.inbox.queries import visible_messages
from beatdesk.triage.models import Alert, RoutingRule

if TYPE_CHECKING:
    from beatdesk.accounts.models import User


def open_alerts(user: User) -> QuerySet[Alert]:
    """Unacknowledged grade-1 alerts on messages this user may see, newest first."""
    return (
        Alert.objects.filter(
            acknowledged_at__isnull=True, message__in=visible_messages(user).values("pk")
        )
        .select_related("message__account", "message__triage")
        .order_by("-raised_at")
    )


def rules_for(user: User) -> QuerySet[RoutingRule]:
    if not reads_force_wide(user):
        return RoutingRule.objects.none()
    return (
        RoutingRule.objects.filter(force=user.force)
        .select_related("team", "updated_by")
        .prefetch_related("areas", "accounts")
    )
