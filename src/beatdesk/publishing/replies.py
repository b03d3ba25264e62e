"""Replying from the desk: templates, length per network, approval by role, then the sender."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError

from beatdesk.inbox.models import Message
from beatdesk.publishing.checks import LIMITS
from beatdesk.publishing.models import ReplyTemplate

if TYPE_CHECKING:
    from beatdesk.accounts.models import User

__all__ = ["LIMITS", "fill"]


def fill(template: ReplyTemplate, message: Message, user: User) -> str:
    force = message.account.force
    case = message.cases.order_by("-created_at").first()
    fields = {
        "author": message.author_handle if message.author_handle.startswith("@") else "",
        "officer": user.display_name,
        "reference": case.reference if case else "",
        "non_emergency": force.non_emergency_number,
        "online_reporting": force.online_reporting_url,
    }
    try:
        return template.text.format(**fields).strip()
    except (KeyError, IndexError, ValueError) as exc:
        raise ValidationError(
            f"the template '{template.name}' has an unknown field: {exc}"
        ) from exc
