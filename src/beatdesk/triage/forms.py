from __future__ import annotations

from typing import Any

from django import forms

from beatdesk.accounts.models import Area, Force, Team
from beatdesk.networks.models import NetworkAccount
from beatdesk.triage.models import ContactType, Grade, RoutingRule


class CorrectionForm(forms.Form):
    contact_type = forms.ChoiceField(choices=ContactType.choices)
    grade = forms.TypedChoiceField(choices=Grade.choices, coerce=int)


class RoutingRuleForm(forms.ModelForm):
    contact_types = forms.MultipleChoiceField(
        choices=ContactType.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    hashtags = forms.CharField(
        required=False, help_text="Separated by spaces or commas, with or without #."
    )

    class Meta:
        model = RoutingRule
        fields = [
            "position",
            "name",
            "is_active",
            "areas",
            "accounts",
            "hashtags",
            "contact_types",
            "max_grade",
            "team",
        ]
        widgets = {"areas": forms.CheckboxSelectMultiple, "accounts": forms.CheckboxSelectMultiple}

    def __init__(self, *args: Any, force: Force, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["areas"].queryset = Area.objects.filter(force=force)  # type: ignore[attr-defined]
        self.fields["accounts"].queryset = NetworkAccount.objects.filter(force=force)  # type: ignore[attr-defined]
        self.fields["team"].queryset = Team.objects.filter(force=force)  # type: ignore[attr-defined]
        if self.instance.pk:
            self.initial["hashtags"] = " ".join(f"#{h}" for h in self.instance.hashtags)

    def clean_hashtags(self) -> list[str]:
        raw = self.cleaned_data.get("hashtags") or ""
        tags = [t.strip().lstrip("#") for t in raw.replace(",", " ").split()]
        bad = [t for t in tags if not t.replace("_", "").isalnum()]
        if bad:
            raise forms.ValidationError(f"not a hashtag: {', '.join(bad)}")
        return [t for t in tags if t]

    def clean_max_grade(self) -> int | None:
        value = self.cleaned_data.get("max_grade")
        if value is not None and value not in Grade.values:
            raise forms.ValidationError("a grade is 1 to 4")
        return value
