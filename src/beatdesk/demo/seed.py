"""The fictional force the demo runs: Westmere Police, its areas, teams, people and accounts."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from beatdesk.accounts.models import Area, Force, Role, Team, User
from beatdesk.audit.actions import Category, record_system
from beatdesk.inbox.models import ResponseTarget
from beatdesk.live.demo import seed_live_event
from beatdesk.monitoring.demo import seed_operation
from beatdesk.networks.models import NetworkAccount, NetworkKind
from beatdesk.publishing.models import ReplyTemplate
from beatdesk.triage.models import RoutingRule

DEMO_PASSWORD = "westmere-demo-2026"  # noqa: S105  (printed by the demo; demo only)

AREAS = [
    (
        "Westmere Town Centre",
        "town-centre",
        ["WM1"],
        ["Town Centre", "Market Square", "Westmere Station"],
    ),
    ("Canal Side", "canal-side", ["WM2"], ["Canal Side", "Lock Street", "the towpath"]),
    ("Dudley Road", "dudley-road", ["WM4"], ["Dudley Road", "Dudley Rd"]),
    ("Hollins Park", "hollins-park", ["WM7"], ["Hollins Park", "Hollins"]),
    ("Abbeyfield", "abbeyfield", ["WM9"], ["Abbeyfield", "Abbeyfield Primary"]),
]
TEAM_ACCOUNTS = {
    "town-centre": "@WMP_TownCentre",
    "canal-side": "@WMP_CanalSide",
    "dudley-road": "@WMP_DudleyRd",
    "hollins-park": "@WMP_HollinsPark",
    "abbeyfield": "@WMP_Abbeyfield",
}


@dataclass(frozen=True)
class DemoUser:
    username: str
    first: str
    last: str
    role: str
    team: str | None


USERS = [
    DemoUser("dana.desk", "Dana", "Okafor", Role.DESK_OPERATOR, "digital-desk"),
    DemoUser("pcso.patel", "Priya", "Patel", Role.OFFICER, "npt-dudley-road"),
    DemoUser("sgt.hughes", "Gareth", "Hughes", Role.SUPERVISOR, "digital-desk"),
    DemoUser("alex.analyst", "Alex", "Nowak", Role.ANALYST, None),
    DemoUser("admin", "Sam", "Admin", Role.ADMINISTRATOR, None),
    DemoUser("ruth.iag", "Ruth", "Mensah", Role.ADVISER, None),
]


@transaction.atomic
def seed() -> Force:
    """Create the demo force if it is not there yet; safe to run again."""
    force, created = Force.objects.get_or_create(
        slug="westmere",
        defaults={
            "name": "Westmere Police",
            "online_reporting_url": "https://www.westmere-police.example/report",
        },
    )
    if not created:
        return force
    teams = {
        "digital-desk": Team.objects.create(
            force=force, name="Digital Desk", slug="digital-desk", kind=Team.Kind.DIGITAL_DESK
        ),
        "professional-standards": Team.objects.create(
            force=force,
            name="Professional Standards",
            slug="professional-standards",
            kind=Team.Kind.PROFESSIONAL_STANDARDS,
        ),
    }
    for name, slug, districts, places in AREAS:
        area = Area.objects.create(
            force=force, name=name, slug=slug, postcode_districts=districts, place_names=places
        )
        team = Team.objects.create(
            force=force,
            name=f"{name} NPT",
            slug=f"npt-{slug}",
            kind=Team.Kind.NEIGHBOURHOOD,
            area=area,
        )
        teams[f"npt-{slug}"] = team
        NetworkAccount.objects.create(
            force=force,
            kind=NetworkKind.X,
            handle=TEAM_ACCOUNTS[slug],
            display_name=f"Westmere Police {name}",
            scope=NetworkAccount.Scope.TEAM,
            owning_team=team,
        )
    for kind, handle in [
        (NetworkKind.X, "@WestmerePolice"),
        (NetworkKind.MASTODON, "@westmerepolice@social.police.example"),
        (NetworkKind.BLUESKY, "westmerepolice.bsky.social"),
        (NetworkKind.FACEBOOK, "Westmere Police"),
        (NetworkKind.RSS, "westmere-gazette-feed"),
        (NetworkKind.EMAIL, "contact@westmere-police.example"),
        (NetworkKind.WEBFORM, "westmere-web-form"),
        (NetworkKind.REPLAY, "replay"),
    ]:
        NetworkAccount.objects.create(
            force=force, kind=kind, handle=handle, display_name="Westmere Police"
        )
    for spec in USERS:
        user = User.objects.create_user(
            spec.username,
            password=DEMO_PASSWORD,
            first_name=spec.first,
            last_name=spec.last,
            force=force,
            role=spec.role,
            is_staff=spec.role == Role.ADMINISTRATOR,
        )
        if spec.team:
            user.teams.add(teams[spec.team])
        # Everyone who signs in has a second factor, community advisers too.
        TOTPDevice.objects.create(user=user, name="Demo authenticator", confirmed=True)
    _routing_rules(force, teams)
    _reply_templates(force)

    seed_operation(force)
    if settings.DEMO:  # tests start without a live event's posts
        seed_live_event(force)

    for grade, minutes in [(1, 5), (2, 60), (3, 24 * 60), (4, 3 * 24 * 60)]:
        ResponseTarget.objects.create(force=force, grade=grade, minutes=minutes)
    record_system("demo", Category.COLLECTION, "demo.seeded", force)
    return force


def _routing_rules(force: Force, teams: dict[str, Team]) -> None:
    desk = teams["digital-desk"]
    RoutingRule.objects.create(
        force=force, position=10, name="Emergencies to the digital desk", max_grade=1, team=desk
    )
    RoutingRule.objects.create(
        force=force,
        position=20,
        name="Complaints to Professional Standards",
        contact_types=["complaint"],
        team=teams["professional-standards"],
    )
    RoutingRule.objects.create(
        force=force,
        position=30,
        name="Abuse to the digital desk",
        contact_types=["abuse"],
        team=desk,
    )
    for position, area in enumerate(Area.objects.filter(force=force).order_by("name"), start=4):
        rule = RoutingRule.objects.create(
            force=force,
            position=position * 10,
            name=f"{area.name} to its neighbourhood team",
            team=teams[f"npt-{area.slug}"],
        )
        rule.areas.add(area)


def _reply_templates(force: Force) -> None:
    for name, text in [
        (
            "Report online or on 101",
            "{author} Thanks for letting us know. To report this please use {online_reporting} "
            "or call {non_emergency}, so it reaches the right team. In an emergency call 999. "
            "{officer}",
        ),
        (
            "Passed to the local team",
            "{author} Thank you, we've passed this to your neighbourhood team, who will be in "
            "touch. {officer}",
        ),
        (
            "Thank you",
            "{author} Thank you so much for taking the time to say this, we'll pass it on to "
            "the officers. {officer}",
        ),
        (
            "Your reference",
            "{author} Thanks, your reference is {reference}. Please quote it if you contact us "
            "again. {officer}",
        ),
    ]:
        ReplyTemplate.objects.create(force=force, name=name, text=text)
