"""Forms for operations and watches. They read what was typed; the rules (purpose, owner,
expiry, never a person) are checked by monitoring.actions, whose reasons land on the
fields here."""

from __future__ import annotations

from typing import Any

from django import forms

from beatdesk.accounts.models import STAFF_ROLES, Force, User
from beatdesk.monitoring.models import Watch
from beatdesk.monitoring.rules import MAX_WATCH_DAYS
from beatdesk.networks.models import NetworkAccount
from beatdesk.networks.registry import connector, kinds

_LOCAL = {"type": "datetime-local"}


class _StaffChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.display_name} ({obj.get_role_display()})"


def _staff(force: Force) -> Any:
    return User.objects.filter(force=force, is_active=True, role__in=STAFF_ROLES).order_by(
        "first_name", "last_name"
    )


class OperationForm(forms.Form):
    name = forms.CharField(max_length=120)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    owner = _StaffChoice(queryset=User.objects.none())
    retention_until = forms.DateTimeField(
        widget=forms.DateTimeInput(attrs=_LOCAL, format="%Y-%m-%dT%H:%M"),
        help_text="Everything the operation's watches collected is deleted then, unless a case "
        "holds it (MoPI: keep it no longer than the operation needs).",
    )
    area_outline = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="The area drawn on the operation board's map: one 'latitude, longitude' a line.",
    )
    alert_email = forms.EmailField(required=False, help_text="Spike alerts by email.")
    alert_webhook = forms.URLField(
        required=False, assume_scheme="https", help_text="Spike alerts POSTed as JSON."
    )

    def __init__(self, *args: Any, force: Force, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = _staff(force)  # type: ignore[attr-defined]

    def clean_area_outline(self) -> list[list[float]]:
        points: list[list[float]] = []
        for number, line in enumerate(
            (self.cleaned_data.get("area_outline") or "").splitlines(), 1
        ):
            if not line.strip():
                continue
            try:
                lat, lon = (float(part) for part in line.replace(";", ",").split(","))
            except ValueError as exc:
                raise forms.ValidationError(
                    f"Line {number} is not 'latitude, longitude': {line.strip()!r}"
                ) from exc
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                raise forms.ValidationError(f"Line {number} is not a place on Earth.")
            points.append([lat, lon])
        return points


def outline_text(outline: list[Any]) -> str:
    return "\n".join(f"{lat}, {lon}" for lat, lon in outline)


class WatchForm(forms.Form):
    name = forms.CharField(max_length=120, help_text="Short, such as 'Carnival hashtag'.")
    network = forms.ChoiceField()  # the networks a watch can follow (asked of each)
    kind = forms.ChoiceField(choices=Watch.Kind.choices, label="Follows a")
    query = forms.CharField(
        max_length=500,
        label="Term",
        help_text="A hashtag (#WestmereCarnival), words, a phrase, a place ('Westmere' or "
        "'52.51, -2.08, 5' for 5 km round a point, X only) or a feed's address.",
    )
    account = forms.ModelChoiceField(
        queryset=NetworkAccount.objects.none(),
        required=False,
        label="Search through",
        help_text="The force account whose access searches Mastodon, Bluesky or X.",
    )
    purpose = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="The lawful reason: what the operation needs to know and why this term.",
    )
    owner = _StaffChoice(queryset=User.objects.none(), required=False)
    starts_at = forms.DateTimeField(
        widget=forms.DateTimeInput(attrs=_LOCAL, format="%Y-%m-%dT%H:%M"), required=False
    )
    expires_at = forms.DateTimeField(
        widget=forms.DateTimeInput(attrs=_LOCAL, format="%Y-%m-%dT%H:%M"),
        required=False,
        label="Expires",
        help_text=f"Mandatory; at most {MAX_WATCH_DAYS} days after the start.",
    )

    def __init__(self, *args: Any, force: Force, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = _staff(force)  # type: ignore[attr-defined]
        watchable = kinds(lambda network: bool(network.watch_kinds))
        self.fields["network"].choices = [(k, connector(k).name) for k in watchable]  # type: ignore[attr-defined]
        self.fields["account"].queryset = NetworkAccount.objects.filter(  # type: ignore[attr-defined]
            force=force,
            is_active=True,
            kind__in=kinds(lambda network: network.search_needs_account),
        )


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("approve", "Approve"), ("refuse", "Refuse"), ("stop", "Stop")]
    )
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
