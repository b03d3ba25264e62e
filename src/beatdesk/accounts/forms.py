from __future__ import annotations

from django import forms


class TokenForm(forms.Form):
    token = forms.CharField(
        label="Six-digit code",
        min_length=6,
        max_length=6,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )
