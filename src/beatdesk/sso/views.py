"""/administration/sso/: the administrator maps the provider's groups to roles and teams and
chooses whether a first sign-in creates an account. Administrators only; every change is
audited (sso/actions.py)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from beatdesk.accounts.access import check_visible, refuse
from beatdesk.accounts.models import Role, Team, User
from beatdesk.sso import actions
from beatdesk.sso.models import GroupMapping


def _may_administer(user: User) -> bool:
    return user.is_active and user.role == Role.ADMINISTRATOR and user.force_id is not None


@login_required
def administration(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    if not _may_administer(user):
        refuse(user, "sso.groupmapping", "", "only administrators map single sign-on groups")
    mappings = GroupMapping.objects.filter(force=user.force)
    status = 200
    if request.method == "POST":
        what = request.POST.get("action", "")
        try:
            if what == "add":
                mapping = actions.check_add_mapping(
                    user,
                    request.POST.get("group", ""),
                    request.POST.get("role", ""),
                    request.POST.get("team", ""),
                )
                messages.success(request, f"Group {mapping.group} is mapped.")
            elif what == "remove":
                mapping_id = request.POST.get("mapping", "")
                if not mapping_id.isdigit():
                    raise ValueError("Say which mapping to remove.")
                check_visible(
                    user,
                    mappings,
                    mapping_id,
                    object_type="sso.groupmapping",
                    hidden="a mapping of another force",
                )
                mapping = mappings.get(pk=mapping_id)
                actions.do_remove_mapping(user, mapping)
                messages.success(request, f"Group {mapping.group} is no longer mapped.")
            elif what == "policy":
                on = request.POST.get("create_accounts") == "1"
                actions.do_set_create_accounts(user, on)
                messages.success(
                    request,
                    "Accounts are created at a mapped person's first sign-in."
                    if on
                    else "Accounts are no longer created at sign-in.",
                )
            else:
                raise ValueError("Nothing to do: add a mapping, remove one, or set the policy.")
            return redirect("sso:administration")
        except ValueError as exc:
            messages.error(request, str(exc))
            status = 400
    context = {
        "configured": settings.BEATDESK_SSO,
        "issuer": settings.BEATDESK_OIDC_ISSUER,
        "client_id": settings.OIDC_RP_CLIENT_ID,
        "redirect_uri": request.build_absolute_uri(reverse("sso:callback")),
        "groups_claim": settings.BEATDESK_OIDC_GROUPS_CLAIM,
        "mfa_amr": sorted(settings.BEATDESK_OIDC_MFA_AMR),
        "mappings": mappings.select_related("team"),
        "policy": actions.policy_of(user.force),  # type: ignore[arg-type]
        "roles": Role.choices,
        "teams": Team.objects.filter(force=user.force),
    }
    return render(request, "sso/administration.html", context, status=status)
