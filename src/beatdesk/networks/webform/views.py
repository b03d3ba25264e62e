"""The public contact page and the JSON intake API (no sign-in; limited and honeypotted)."""

from __future__ import annotations

from django import forms
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from beatdesk.core.client import client_address
from beatdesk.networks.base import PayloadError, read_json
from beatdesk.networks.webform.intake import MAX_MESSAGE, IntakeError, TooMany, submit


class ContactForm(forms.Form):
    name = forms.CharField(required=False, max_length=200, label="Your name (optional)")
    reply_email = forms.EmailField(
        required=False, label="Email, if you would like a reply (optional)"
    )
    message = forms.CharField(widget=forms.Textarea(attrs={"rows": 8}), max_length=MAX_MESSAGE)
    # Bots fill every field; people never see this one.
    website = forms.CharField(required=False, label="Leave this empty")


def contact(request: HttpRequest) -> HttpResponse:
    form = ContactForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if form.cleaned_data["website"]:
            # A bot: thank it and keep nothing.
            return render(request, "networks/contact_done.html", {"reference": None})
        try:
            done = submit(
                message=form.cleaned_data["message"],
                name=form.cleaned_data["name"],
                reply_email=form.cleaned_data["reply_email"],
                address=client_address(request),
            )
        except TooMany as exc:
            form.add_error(None, str(exc))
            return render(request, "networks/contact.html", {"form": form}, status=429)
        except IntakeError as exc:
            form.add_error(None, str(exc))
            return render(request, "networks/contact.html", {"form": form}, status=400)
        return render(request, "networks/contact_done.html", {"reference": done.reference})
    status = 400 if request.method == "POST" else 200
    return render(request, "networks/contact.html", {"form": form}, status=status)


@csrf_exempt
@require_POST
def intake_api(request: HttpRequest) -> JsonResponse:
    """POST JSON {"message", "name"?, "reply_email"?} → 201 {"reference"}; errors say why."""
    if len(request.body) > 4 * MAX_MESSAGE:
        return JsonResponse({"error": "the request is too large"}, status=413)
    try:
        data = read_json(request.body or b"{}", "the body")
    except PayloadError as exc:
        return JsonResponse({"error": "the body must be JSON", "detail": str(exc)}, status=400)
    if not isinstance(data, dict):
        return JsonResponse({"error": "the body must be a JSON object"}, status=400)
    if data.get("website"):
        return JsonResponse({"reference": None}, status=201)
    fields = {name: data.get(name) or "" for name in ("message", "name", "reply_email")}
    wrong = [name for name, value in fields.items() if not isinstance(value, str)]
    if wrong:
        return JsonResponse({"error": f"{', '.join(wrong)} must be text"}, status=400)
    try:
        done = submit(**fields, address=client_address(request))
    except TooMany as exc:
        return JsonResponse({"error": str(exc)}, status=429)
    except IntakeError as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    return JsonResponse({"reference": done.reference, "status": done.status}, status=201)
