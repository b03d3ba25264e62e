"""Tagging inbox messages that reply to a live event's posts with the event's hashtag."""

from __future__ import annotations

from collections.abc import Iterable

from django import template
from django.urls import reverse
from django.utils.html import format_html

from beatdesk.inbox.models import Message
from beatdesk.live.models import LiveEvent
from beatdesk.live.queries import event_of_replies

register = template.Library()


@register.simple_tag
def live_events_for(messages: Iterable[Message]) -> dict[int, LiveEvent]:
    """The live event each listed message replies to, in two queries for the whole list."""
    return event_of_replies(list(messages))


@register.simple_tag
def live_event_badge(message: Message, events: dict[int, LiveEvent] | None = None) -> str:
    """A link to the event, such as "#bsp24", when the message replies to one of its posts."""
    if events is None:
        events = event_of_replies([message])
    event = events.get(message.pk)
    if event is None:
        return ""
    return format_html(
        ' <a class="net live-event" href="{}" title="A reply to the live event {}">{}</a>',
        reverse("live:detail", args=[event.pk]),
        event.name,
        event.hashtag,
    )
