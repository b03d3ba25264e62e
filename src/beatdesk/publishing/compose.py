"""The composer: write once for several accounts, check before anything goes out, approve,
schedule or send; and the emergency stop."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet

from beatdesk.accounts.models import Role
from beatdesk.accounts.policy import is_active_staff
from beatdesk.networks.models import NetworkAccount
from beatdesk.networks.registry import kinds
from beatdesk.publishing.checks import LIMITS, Media, count_characters, run_checks
from beatdesk.publishing.threads import split_thread

if TYPE_CHECKING:
    from beatdesk.accounts.models import User

OVERRIDERS = frozenset({Role.SUPERVISOR, Role.ADMINISTRATOR})
WRITERS = frozenset({Role.OFFICER, Role.DESK_OPERATOR, Role.SUPERVISOR, Role.ADMINISTRATOR})


def usable_accounts(user: User) -> QuerySet[NetworkAccount]:
    """The accounts this person may post as: their own, their teams', and (desk roles, or
    officers subject to approval) the force's."""
    if not is_active_staff(user) or user.role not in WRITERS:
        return NetworkAccount.objects.none()
    mine = NetworkAccount.objects.filter(
        force=user.force, is_active=True, kind__in=kinds("starts_posts")
    )
    if user.role == Role.OFFICER:
        return mine.filter(
            Q(owner=user) | Q(owning_team__in=user.teams.all()) | Q(scope="force")
        ).distinct()
    return mine


def needs_approval(user: User, account: NetworkAccount) -> bool:
    return user.role == Role.OFFICER and account.scope == NetworkAccount.Scope.FORCE


@dataclass(frozen=True)
class Image:
    """An image to attach, with the alt text that describes it."""

    filename: str
    content_type: str
    data: bytes
    alt_text: str


@dataclass
class Variant:
    """What one account will publish: the text for its network, split into a thread where
    asked and allowed, and what the checks found in it."""

    account: NetworkAccount
    text: str
    parts: list[str]
    findings: list[Any] = field(default_factory=list)
    limit: int | None = None

    @property
    def parts_with_lengths(self) -> list[tuple[str, int]]:
        return [(p, count_characters(p, self.account.kind)) for p in self.parts]


def _names(lines: str | None) -> list[str]:
    return [n.strip() for n in (lines or "").splitlines() if n.strip()]


def findings_for(
    text: str, accounts: list[NetworkAccount], kind: str, force: Any, media: Iterable[Any] = ()
) -> list[Any]:
    return run_checks(
        text,
        networks=sorted({a.kind for a in accounts}),
        media=[Media(getattr(m, "alt_text", "")) for m in media],
        charged_names=_names(force.charged_names),
        banned_words=_names(force.banned_words),
        post_type=kind,
    )


def variants_for(
    force: Any,
    accounts: list[NetworkAccount],
    *,
    text: str,
    kind: str,
    variants: dict[str, str] | None = None,
    thread: bool = False,
    media: Sequence[Image] = (),
) -> list[Variant]:
    """Each account's variant (its network's own text if one was written), split into a
    thread when asked and the network has threads, with the checks run on every part."""
    out = []
    for account in accounts:
        body = ((variants or {}).get(account.kind) or text).strip()
        try:
            parts = split_thread(body, account.kind) if thread else [body]
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc
        findings: list[Any] = []
        for number, part in enumerate(parts):
            findings += findings_for(part, [account], kind, force, media if number == 0 else ())
        unique = list(dict.fromkeys(findings))
        out.append(Variant(account, body, parts, unique, LIMITS.get(account.kind)))
    return out
