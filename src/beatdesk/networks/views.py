"""Connecting an account: its network's credential fields, stored encrypted.

(The Channels page and dead letters, which read every part's backlog, are operations'
pages: beatdesk/operations/views.py, under the same URL names.)"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from beatdesk.accounts.access import check_visible, refuse
from beatdesk.accounts.models import Role, User
from beatdesk.networks.actions import check_set_credentials
from beatdesk.networks.models import NetworkAccount
from beatdesk.networks.registry import known


@login_required
def credentials(request: HttpRequest, pk: int) -> HttpResponse:
    """Administrators connect an account. Secrets are encrypted at rest, never shown again,
    never logged; leaving a secret blank keeps the one already stored."""
    user: User = request.user  # type: ignore[assignment]
    if user.role != Role.ADMINISTRATOR or not user.is_active:
        refuse(user, "networks.networkaccount", pk, "only administrators connect accounts")
    theirs = NetworkAccount.objects.filter(force_id=user.force_id or 0)
    check_visible(
        user,
        theirs,
        pk,
        object_type="networks.networkaccount",
        hidden="the account is another force's",
    )
    account = theirs.get(pk=pk)
    network = known(account.kind)
    fields = list(network.credential_fields) if network is not None else []
    stored = account.get_credentials()
    errors: list[str] = []
    if request.method == "POST" and fields:
        updated = dict(stored)
        for field in fields:
            value = request.POST.get(field.name, "").strip()
            if value:
                updated[field.name] = value
            elif field.required and not stored.get(field.name):
                errors.append(f"{field.label} is needed")
        if not errors:
            check_set_credentials(user, account, updated)
            messages.success(request, f"{account} is connected. Secrets are stored encrypted.")
            return redirect("networks:health")
    rows = [
        {
            "field": f,
            "value": "" if f.secret else stored.get(f.name, ""),
            "is_set": bool(stored.get(f.name)),
        }
        for f in fields
    ]
    return render(
        request, "networks/credentials.html", {"account": account, "rows": rows, "errors": errors}
    )
