"""Routing: which team's queue a message goes to, and why, in words.

Rules are tried in order; the first whose conditions all hold wins. Without a matching
rule a message goes to the team that owns the account it was addressed to, else to the
force's digital desk.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from beatdesk.accounts.models import Area, Team
from beatdesk.inbox.models import Message
from beatdesk.triage.models import RoutingRule

_HASHTAG = re.compile(r"#(\w+)")


@dataclass(frozen=True)
class AreaMatcher:
    area: Area
    pattern: re.Pattern[str] | None


def area_matchers(areas: list[Area]) -> list[AreaMatcher]:
    matchers = []
    for area in areas:
        terms = [re.escape(p) for p in area.place_names if p.strip()]
        # A district on its own ("WM4") or as the start of a full postcode ("WM4 2AB").
        terms += [
            rf"{re.escape(d)}(?:\s*\d[A-Z]{{2}})?" for d in area.postcode_districts if d.strip()
        ]
        pattern = (
            re.compile(rf"(?<!\w)(?:{'|'.join(terms)})(?!\w)", re.IGNORECASE) if terms else None
        )
        matchers.append(AreaMatcher(area, pattern))
    return matchers


def infer_area(message: Message, matchers: list[AreaMatcher]) -> tuple[Area | None, str]:
    team = message.account.owning_team
    if team is not None and team.area_id is not None:
        return team.area, f"addressed to {message.account.handle}, {team.name}'s account"
    for matcher in matchers:
        if matcher.pattern is None:
            continue
        found = matcher.pattern.search(message.text)
        if found:
            return matcher.area, f"mentions '{found.group(0)}' in {matcher.area.name}"
    return None, ""


@dataclass(frozen=True)
class CompiledRule:
    rule: RoutingRule
    area_ids: frozenset[int]
    account_ids: frozenset[int]
    hashtags: frozenset[str]


def compile_rules(rules: list[RoutingRule]) -> list[CompiledRule]:
    return [
        CompiledRule(
            rule,
            frozenset(a.pk for a in rule.areas.all()),
            frozenset(a.pk for a in rule.accounts.all()),
            frozenset(h.lstrip("#").lower() for h in rule.hashtags),
        )
        for rule in rules
    ]


def _conditions(
    c: CompiledRule, message: Message, area: Area | None, contact_type: str, grade: int
) -> list[str] | None:
    """The reasons the rule matches, or None when one of its conditions does not hold."""
    said = []
    if c.area_ids:
        if area is None or area.pk not in c.area_ids:
            return None
        said.append(f"area {area.name}")
    if c.account_ids:
        if message.account_id not in c.account_ids:
            return None
        said.append(f"addressed to {message.account.handle}")
    if c.hashtags:
        tags = {t.lower() for t in _HASHTAG.findall(message.text)} & c.hashtags
        if not tags:
            return None
        said.append("hashtag " + ", ".join(f"#{t}" for t in sorted(tags)))
    if c.rule.contact_types:
        if contact_type not in c.rule.contact_types:
            return None
        said.append(contact_type.replace("_", " "))
    if c.rule.max_grade is not None:
        if grade > c.rule.max_grade:
            return None
        said.append(f"grade {grade}")
    return said


@dataclass(frozen=True)
class Decision:
    team: Team | None
    area: Area | None
    rule: RoutingRule | None
    reason: str


def decide(
    message: Message,
    contact_type: str,
    grade: int,
    rules: list[CompiledRule],
    matchers: list[AreaMatcher],
    desk: Team | None,
) -> Decision:
    area, area_reason = infer_area(message, matchers)
    for position, compiled in enumerate(rules, start=1):
        said = _conditions(compiled, message, area, contact_type, grade)
        if said is not None:
            why = ", ".join(said) or "matches everything"
            if area_reason and compiled.area_ids:
                why += f" ({area_reason})"
            reason = f"rule {position} '{compiled.rule.name}': {why}"
            return Decision(compiled.rule.team, area, compiled.rule, reason)
    owner = message.account.owning_team
    if owner is not None:
        return Decision(
            owner, area, None, f"no rule matched; {message.account.handle} belongs to {owner.name}"
        )
    if area is not None:
        local = next((t for t in area.teams.all() if t.kind == Team.Kind.NEIGHBOURHOOD), None)
        if local is not None:
            return Decision(local, area, None, f"no rule matched; {area_reason}, so {local.name}")
    return Decision(desk, area, None, "no rule matched: the digital desk's queue")
