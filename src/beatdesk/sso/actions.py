"""Single sign-on: who a person the provider vouches for is on the desk, and the
administrator's mapping of the provider's groups to roles and teams. Every change and every
sign-in decision is audited."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from beatdesk.accounts.models import Force, Role, Team, User
from beatdesk.audit.actions import Category, record
from beatdesk.sso.models import GroupMapping, SsoIdentity, SsoPolicy

# The strongest mapped role wins when a person's groups give several.
ROLE_STRENGTH = [
    Role.ADMINISTRATOR,
    Role.SUPERVISOR,
    Role.DESK_OPERATOR,
    Role.ANALYST,
    Role.OFFICER,
    Role.ADVISER,
]


class Refused(Exception):
    """A sign-in the desk refuses; the message says why, to the person and in the log."""


@dataclass(frozen=True)
class Grant:
    role: str
    teams: list[Team]


def sso_force() -> Force | None:
    """The force whose people sign in through the provider: BEATDESK_OIDC_FORCE (a slug),
    else the installation's only force."""
    if settings.BEATDESK_OIDC_FORCE:
        return Force.objects.filter(slug=settings.BEATDESK_OIDC_FORCE).first()
    forces = list(Force.objects.all()[:2])
    return forces[0] if len(forces) == 1 else None


def policy_of(force: Force) -> SsoPolicy:
    return SsoPolicy.objects.get_or_create(force=force)[0]


def groups_in(claims: dict[str, Any]) -> list[str]:
    value = claims.get(settings.BEATDESK_OIDC_GROUPS_CLAIM) or []
    if isinstance(value, str):
        value = [value]
    return sorted({str(g) for g in value})


def grant_for(force: Force, groups: list[str]) -> Grant | None:
    """What these provider groups give on the desk; None when no group maps to a role."""
    mappings = list(
        GroupMapping.objects.filter(force=force, group__in=groups).select_related("team")
    )
    roles = {m.role for m in mappings if m.role}
    if not roles:
        return None
    role = next(r for r in ROLE_STRENGTH if r in roles)
    teams = sorted({m.team for m in mappings if m.team is not None}, key=lambda t: t.pk)
    return Grant(role=role, teams=teams)


def _email(claims: dict[str, Any]) -> str:
    email = str(claims.get("email") or "")
    if not email and "@" in str(claims.get("preferred_username") or ""):
        email = str(claims["preferred_username"])
    return email.strip()


def _new_username(claims: dict[str, Any], email: str) -> str:
    base = str(claims.get("preferred_username") or email or claims["sub"])[:140]
    name, n = base, 1
    while User.objects.filter(username=name).exists():
        n += 1
        name = f"{base}.{n}"
    return name


def _refuse(user: User | None, claims: dict[str, Any], reason: str) -> Refused:
    with transaction.atomic():
        record(
            user,
            Category.AUTHENTICATION,
            "login.sso_refused",
            object_type="accounts.user",
            object_id=str(user.pk) if user else "",
            justification=reason,
            payload={"subject": str(claims.get("sub", "")), "groups": groups_in(claims)},
        )
    return Refused(reason)


def _find(force: Force, issuer: str, subject: str, email: str) -> User | None:
    identity = (
        SsoIdentity.objects.filter(issuer=issuer, subject=subject).select_related("user").first()
    )
    if identity is not None:
        return identity.user
    if not email:
        return None
    # An account the administrator made before single sign-on: linked by its email
    # address at the first sign-in, then by the provider's subject for good.
    matches = list(
        User.objects.filter(force=force, email__iexact=email, sso_identity__isnull=True)[:2]
    )
    return matches[0] if len(matches) == 1 else None


def check_sign_in(claims: dict[str, Any], issuer: str) -> User:
    """The account a person the provider vouches for signs in to, with the role and teams
    their groups give today; raises Refused, audited, when the desk refuses them."""
    subject = str(claims.get("sub") or "")
    if not subject:
        raise _refuse(None, claims, "The identity provider sent no subject (sub).")
    force = sso_force()
    if force is None:
        raise _refuse(None, claims, "No force is set for single sign-on (BEATDESK_OIDC_FORCE).")
    email = _email(claims)
    user = _find(force, issuer, subject, email)
    if user is not None and user.force_id != force.pk:
        raise _refuse(user, claims, "This account belongs to another force.")
    if user is not None and not user.is_active:
        raise _refuse(user, claims, "This account is disabled on the desk.")
    claim = settings.BEATDESK_OIDC_GROUPS_CLAIM
    if claim not in claims and claim in (claims.get("_claim_names") or {}):
        # Entra ID's "overage": past 200 groups it sends a link to Graph, not the list.
        raise _refuse(
            user,
            claims,
            "The identity provider sent a link instead of your groups (too many groups); "
            "the administrator should send only the groups assigned to the application.",
        )
    grant = grant_for(force, groups_in(claims))
    if grant is None:
        raise _refuse(
            user,
            claims,
            "None of your groups at the identity provider gives a role on the desk; "
            "ask the desk's administrator.",
        )
    if user is None and not policy_of(force).create_accounts:
        raise _refuse(
            None,
            claims,
            "You have no account on the desk, and accounts are not created at sign-in; "
            "ask the desk's administrator.",
        )
    return do_sign_in(user, force, claims, issuer, grant, email)


def do_sign_in(
    user: User | None, force: Force, claims: dict[str, Any], issuer: str, grant: Grant, email: str
) -> User:
    with transaction.atomic():
        created = user is None
        if user is None:
            user = User(username=_new_username(claims, email), email=email, force=force)
        # Someone who signs in through the provider signs in only through it: a password
        # kept on the desk would let a person disabled at the provider in.
        retired = not created and user.has_usable_password()
        user.set_unusable_password()
        user.first_name = str(claims.get("given_name") or user.first_name)[:150]
        user.last_name = str(claims.get("family_name") or user.last_name)[:150]
        teams_before = [] if created else sorted(user.teams.values_list("pk", flat=True))
        before = {"role": user.role, "teams": teams_before}
        user.role = grant.role
        user.save()
        user.teams.set(grant.teams)
        identity, _ = SsoIdentity.objects.get_or_create(
            user=user, defaults={"issuer": issuer, "subject": str(claims["sub"])}
        )
        identity.last_sign_in = timezone.now()
        identity.save(update_fields=["last_sign_in"])
        after = {"role": user.role, "teams": sorted(t.pk for t in grant.teams)}
        if retired:
            record(user, Category.ALTERATION, "sso.password_retired", user)
        if created:
            record(user, Category.ALTERATION, "sso.account_created", user, payload=after)
        elif before != after:
            record(
                user,
                Category.ALTERATION,
                "sso.role_changed",
                user,
                payload={"before": before, "after": after},
            )
        record(
            user,
            Category.AUTHENTICATION,
            "login.sso_granted",
            user,
            payload={"groups": groups_in(claims), **after},
        )
    return user


# -- the administrator's mapping --------------------------------------------------------------


def check_add_mapping(admin: User, group: str, role: str, team_id: str) -> GroupMapping:
    """Map a provider group to a role, a team or both; ValueError says what is wrong."""
    group = group.strip()
    force = admin.force
    if force is None:
        raise ValueError("Only an administrator of a force maps its groups.")
    if not group:
        raise ValueError("Give the group's id as the identity provider sends it.")
    if len(group) > 200:
        raise ValueError("A group id is at most 200 characters.")
    if role and role not in Role.values:
        raise ValueError("That is not a role of the desk.")
    team = None
    if team_id:
        found = Team.objects.filter(force=force, pk=team_id) if team_id.isdigit() else None
        team = found.first() if found is not None else None
        if team is None:
            raise ValueError("That is not a team of your force.")
    if not role and team is None:
        raise ValueError("A group gives a role, a team, or both.")
    if GroupMapping.objects.filter(force=force, group=group).exists():
        raise ValueError("That group is already mapped; remove it first to change it.")
    with transaction.atomic():
        mapping = GroupMapping.objects.create(force=force, group=group, role=role, team=team)
        record(
            admin,
            Category.ALTERATION,
            "sso.mapping_added",
            mapping,
            payload={"group": group, "role": role, "team": team.pk if team else None},
        )
    return mapping


def do_remove_mapping(admin: User, mapping: GroupMapping) -> None:
    with transaction.atomic():
        record(
            admin,
            Category.ALTERATION,
            "sso.mapping_removed",
            mapping,
            payload={"group": mapping.group, "role": mapping.role, "team": mapping.team_id},
        )
        mapping.delete()


def do_set_create_accounts(admin: User, on: bool) -> SsoPolicy:
    with transaction.atomic():
        policy = policy_of(admin.force)  # type: ignore[arg-type]
        if policy.create_accounts != on:
            policy.create_accounts = on
            policy.save(update_fields=["create_accounts"])
            record(
                admin,
                Category.ALTERATION,
                "sso.create_accounts_on" if on else "sso.create_accounts_off",
                policy,
            )
    return policy
