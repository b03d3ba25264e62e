"""The administration pages' forms: they check the shape of what was sent; actions.py
checks who may do it and does it."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.validators import UnicodeUsernameValidator

from beatdesk.accounts.models import Area, Force, Role, Team
from beatdesk.administration.actions import FORCE_SETTINGS

# Community advisers join through their spaces, not as staff.
STAFF_ROLE_CHOICES = [(r.value, r.label) for r in Role if r != Role.ADVISER]


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.replace(",", "\n").splitlines() if line.strip()]


class TeamChoiceMixin:
    def limit_teams(self, force: Force) -> None:
        self.fields["teams"].queryset = Team.objects.filter(force=force)  # type: ignore[attr-defined]


class InviteForm(TeamChoiceMixin, forms.Form):
    email = forms.EmailField()
    username = forms.CharField(max_length=150, validators=[UnicodeUsernameValidator()])
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    role = forms.ChoiceField(choices=STAFF_ROLE_CHOICES)
    teams = forms.ModelMultipleChoiceField(queryset=Team.objects.none(), required=False)


class UserForm(TeamChoiceMixin, forms.Form):
    role = forms.ChoiceField(choices=STAFF_ROLE_CHOICES)
    teams = forms.ModelMultipleChoiceField(queryset=Team.objects.none(), required=False)


class ImportForm(forms.Form):
    file = forms.FileField(
        required=False, help_text="A CSV file with the columns username,email,role,team."
    )
    rows = forms.CharField(widget=forms.HiddenInput, required=False)


class TeamForm(forms.ModelForm):
    class Meta:
        model = Team
        fields = ["name", "slug", "kind", "area"]
        labels = {"slug": "Short name"}

    def __init__(self, *args: Any, force: Force, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["area"].queryset = Area.objects.filter(force=force)  # type: ignore[attr-defined]


class AreaForm(forms.ModelForm):
    postcode_districts = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One a line or comma-separated, as B18 or WS1.",
    )
    place_names = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One a line or comma-separated.",
    )
    outline_file = forms.FileField(
        required=False,
        label="Outline",
        help_text="A GeoJSON or KML file with the area's polygon (replaces the one shown).",
    )

    class Meta:
        model = Area
        fields = ["name", "slug"]
        labels = {"slug": "Short name"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["postcode_districts"] = "\n".join(self.instance.postcode_districts)
            self.initial["place_names"] = "\n".join(self.instance.place_names)

    def clean_postcode_districts(self) -> list[str]:
        districts = [
            d.upper().replace(" ", "") for d in _lines(self.cleaned_data["postcode_districts"])
        ]
        bad = [d for d in districts if not (2 <= len(d) <= 4 and d[0].isalpha() and d.isalnum())]
        if bad:
            raise forms.ValidationError(
                f"Not a postcode district: {', '.join(bad)} (a district is like B18 or WS1)."
            )
        return districts

    def clean_place_names(self) -> list[str]:
        return _lines(self.cleaned_data["place_names"])


class ForceSettingsForm(forms.ModelForm):
    online_reporting_url = forms.URLField(required=False, assume_scheme="https")

    class Meta:
        model = Force
        fields = FORCE_SETTINGS
        widgets = {
            "emergency_reply_text": forms.Textarea(attrs={"rows": 3}),
            "banned_words": forms.Textarea(attrs={"rows": 5}),
            "charged_names": forms.Textarea(attrs={"rows": 5}),
        }
