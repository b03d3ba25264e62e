from __future__ import annotations

from django import forms
from django.db.models import QuerySet

from beatdesk.accounts.models import Area
from beatdesk.inbox.queries import QUEUES
from beatdesk.networks.models import NetworkAccount
from beatdesk.networks.registry import network_choices
from beatdesk.triage.models import ContactType, Grade


def _networks() -> list[tuple[str, str]]:
    return [("", "All networks"), *network_choices()]


class InboxFilterForm(forms.Form):
    network = forms.ChoiceField(choices=_networks, required=False)
    account = forms.ModelChoiceField(
        queryset=NetworkAccount.objects.none(), required=False, empty_label="All accounts"
    )
    area = forms.ModelChoiceField(
        queryset=Area.objects.none(), required=False, empty_label="All areas"
    )
    queue = forms.ChoiceField(choices=[], required=False)
    q = forms.CharField(required=False, max_length=200, label="Search")
    language = forms.CharField(required=False, max_length=8)
    personal_data = forms.TypedChoiceField(
        choices=[("", "Either"), ("yes", "Has personal data"), ("no", "No personal data")],
        required=False,
        coerce=lambda v: v == "yes",
        empty_value=None,
    )
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    contact_type = forms.ChoiceField(
        choices=[("", "All types"), *ContactType.choices], required=False
    )
    grade = forms.TypedChoiceField(
        choices=[("", "All grades"), *Grade.choices], required=False, coerce=int, empty_value=None
    )

    def __init__(
        self,
        *args: object,
        accounts: QuerySet[NetworkAccount],
        areas: QuerySet[Area],
        **kwargs: object,
    ) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

        self.fields["queue"].choices = list(QUEUES.items())  # type: ignore[attr-defined]
        self.fields["account"].queryset = accounts  # type: ignore[attr-defined]
        self.fields["area"].queryset = areas  # type: ignore[attr-defined]
