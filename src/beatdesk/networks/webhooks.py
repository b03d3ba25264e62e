"""Webhook endpoints: networks push deliveries here (X Account Activity, Meta Webhooks).

Each request is checked against the account's secret first (a forged push gets 401 and
is never stored); then every event goes through the one ingestion path, raw first. A
push that cannot be split into events is stored whole, as a dead letter.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.csrf import csrf_exempt

from beatdesk.inbox.actions import do_receive, do_receive_many
from beatdesk.networks.models import NetworkAccount


def _deliver(account: NetworkAccount, body: bytes, split: Callable[[bytes], list[str]]) -> int:
    try:
        events = split(body)
    except (ValueError, TypeError, KeyError, RecursionError):
        # Kept as the bytes it came as (not UTF-8 text, half an emoji, nested too deep):
        # normalising the whole push fails and it becomes a dead letter.
        do_receive(account, body)
        return 0
    if events:
        do_receive_many(account, events)
    return len(events)


@csrf_exempt
def x_webhook(request: HttpRequest, account_id: int) -> HttpResponse:
    from beatdesk.networks.x import webhook

    account = get_object_or_404(NetworkAccount, pk=account_id, kind="x", is_active=True)
    secret = str(account.get_credentials().get("consumer_secret") or "")
    if not secret:
        return JsonResponse({"error": "this account has no consumer secret"}, status=503)
    if request.method == "GET":
        token = request.GET.get("crc_token", "")
        if not token:
            return JsonResponse({"error": "crc_token is required"}, status=400)
        return JsonResponse(webhook.crc_response(token, secret))
    if request.method != "POST":
        return JsonResponse({"error": "GET (CRC) or POST only"}, status=405)
    signature = request.headers.get("x-twitter-webhooks-signature", "")
    if not webhook.verify_signature(request.body, signature, secret):
        return JsonResponse({"error": "bad or missing x-twitter-webhooks-signature"}, status=401)
    return JsonResponse({"received": _deliver(account, request.body, webhook.split_events)})


@csrf_exempt
def meta_webhook(request: HttpRequest, account_id: int) -> HttpResponse:
    import beatdesk.networks.facebook.webhook as webhook

    account = get_object_or_404(
        NetworkAccount, pk=account_id, kind__in=["facebook", "instagram"], is_active=True
    )
    creds = account.get_credentials()
    if request.method == "GET":
        challenge = webhook.verify_subscription(
            request.GET.dict(), str(creds.get("verify_token") or "")
        )
        if challenge is None:
            return HttpResponse("verify token does not match", status=403)
        return HttpResponse(challenge, content_type="text/plain")
    if request.method != "POST":
        return JsonResponse({"error": "GET (subscription) or POST only"}, status=405)
    signature = request.headers.get("x-hub-signature-256", "")
    if not webhook.verify_signature(request.body, signature, str(creds.get("app_secret") or "")):
        return JsonResponse({"error": "bad or missing X-Hub-Signature-256"}, status=401)
    return JsonResponse({"received": _deliver(account, request.body, webhook.split_events)})
