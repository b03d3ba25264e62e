"""Template helpers for the desk."""

from __future__ import annotations

from django import template
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

_LABELS = {
    "name": "name",
    "phone": "phone number",
    "email": "email address",
    "address": "street address",
    "postcode": "postcode",
    "vehicle_registration": "vehicle registration",
    "date_of_birth": "date of birth",
}


@register.filter
def highlight_personal_data(text: str, spans: list[list[object]] | None) -> SafeString:
    """The text, escaped, with each personal-data span marked and labelled for screen readers."""
    if not spans:
        return mark_safe(escape(text))  # noqa: S308 (escaped just above)
    parts: list[str] = []
    at = 0
    for start, end, kind in sorted((int(s[0]), int(s[1]), str(s[2])) for s in spans):  # type: ignore[call-overload]
        if start < at or end > len(text):
            continue
        parts.append(escape(text[at:start]))
        label = _LABELS.get(kind, kind)
        parts.append(
            format_html(
                '<mark class="pd" title="{}" aria-label="{}: {}">{}</mark>',
                label,
                label,
                text[start:end],
                text[start:end],
            )
        )
        at = end
    parts.append(escape(text[at:]))
    return mark_safe("".join(parts))  # noqa: S308 (every part escaped or format_html)


@register.filter
def pd_kinds(spans: list[list[object]] | None) -> str:
    kinds = sorted({_LABELS.get(str(s[2]), str(s[2])) for s in spans or []})
    return ", ".join(kinds)
