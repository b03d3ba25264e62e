"""The webhook endpoint: networks push deliveries here (X Account Activity, Meta Webhooks),
at /hooks/<route>/<account id>/, the route and the checks being the network's own
(`Network.webhook()`).

Each request is checked against the account's secret first (a forged push gets 401 and
is never stored); then every event goes through the one ingestion path, raw first. A
push that cannot be split into events is stored whole, as a dead letter.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.csrf import csrf_exempt

from beatdesk.networks.models import NetworkAccount
from beatdesk.networks.receiver import receive, receive_many
from beatdesk.networks.registry import known


def _deliver(account: NetworkAccount, body: bytes, split: Callable[[bytes], list[str]]) -> int:
    try:
        events = split(body)
    except (ValueError, TypeError, KeyError, RecursionError):
        # Kept as the bytes it came as (not UTF-8 text, half an emoji, nested too deep):
        # normalising the whole push fails and it becomes a dead letter.
        receive(account, body)
        return 0
    if events:
        receive_many(account, events)
    return len(events)


@csrf_exempt
def webhook(request: HttpRequest, route: str, account_id: int) -> HttpResponse:
    """A network's push for one account: its handshake on GET, signed events on POST."""
    account = get_object_or_404(NetworkAccount, pk=account_id, is_active=True)
    network = known(account.kind)
    hook = network.webhook() if network is not None else None
    if hook is None or hook.route != route:
        raise Http404("this account takes no pushes here")
    credentials = account.get_credentials()
    if problem := hook.unavailable(credentials):
        return JsonResponse({"error": problem}, status=503)
    if request.method == "GET":
        answer = hook.handshake(credentials, request.GET.dict())
        return HttpResponse(answer.body, status=answer.status, content_type=answer.content_type)
    if request.method != "POST":
        return JsonResponse({"error": "GET (handshake) or POST only"}, status=405)
    if problem := hook.verify(credentials, request.body, request.headers):
        return JsonResponse({"error": problem}, status=401)
    return JsonResponse({"received": _deliver(account, request.body, hook.split)})
