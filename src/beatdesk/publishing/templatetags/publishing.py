"""Publishing on other pages: the force's own post an inbox message answers."""

from __future__ import annotations

from typing import Any

from django import template

from beatdesk.inbox.models import Message
from beatdesk.publishing.queries import our_post_answered

register = template.Library()


@register.inclusion_tag("publishing/_our_post_link.html")
def our_post_link(message: Message) -> dict[str, Any]:
    return {"post": our_post_answered(message)}
