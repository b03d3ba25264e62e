"""Publishing's door: drafts are read only through visible_posts/access_post, by the roles
that write posts and (for officers) their own and their teams'; every listing is audited;
pages a role may not open answer 403 and are absent from its navigation."""

from __future__ import annotations

import pytest

from beatdesk.audit.models import AuditEvent
from beatdesk.publishing import actions
from beatdesk.publishing.tests.test_compose import CLEAN, masto  # noqa: F401 (fixture)
from beatdesk.testing.fixtures import page_body

pytestmark = pytest.mark.django_db
DRAFT = "Draft appeal: witnesses to the collision on Mill Lane, not yet approved"
PUBLISHING_PAGES = [
    "/publishing/calendar/",
    "/publishing/calendar/month/",
    "/publishing/appeals/",
    "/publishing/compose/",
    "/publishing/approvals/",
    "/publishing/rules/",
]


@pytest.fixture
def desk_draft(masto, users):  # noqa: F811
    return actions.check_compose(
        users["dana.desk"], text=DRAFT, kind="appeal", account_ids=[masto.pk], send="draft"
    )[0]


@pytest.mark.parametrize("username", ["ruth.iag", "alex.analyst"])
def test_the_adviser_and_the_analyst_are_refused_publishing_and_see_no_draft(
    desk_draft, client_for, username
):
    client = client_for(username)
    for page in PUBLISHING_PAGES:
        response = client.get(page)
        assert response.status_code == 403, page
        assert DRAFT.encode() not in response.content
    assert client.get(f"/publishing/p/{desk_draft.group}/").status_code == 403
    refused = AuditEvent.objects.filter(action="access.refused", object_type="publishing.post")
    assert refused.count() == len(PUBLISHING_PAGES) + 1
    assert not AuditEvent.objects.filter(action__in=["post.list", "post.viewed"]).exists()


def test_the_calendar_reads_through_the_door_and_is_audited(desk_draft, client_for, users):
    page = client_for("dana.desk").get("/publishing/calendar/")
    assert DRAFT.encode() in page.content
    event = AuditEvent.objects.get(action="post.list")
    assert event.category == "consultation" and event.actor == users["dana.desk"]
    assert event.justification == "publishing calendar"


def test_an_officer_sees_own_drafts_not_another_teams(desk_draft, masto, client_for, users):  # noqa: F811
    mine = actions.check_compose(
        users["pcso.patel"], text=CLEAN, kind="event", account_ids=[masto.pk], send="draft"
    )[0]
    officer = client_for("pcso.patel")
    calendar = officer.get("/publishing/calendar/").content
    assert b"PCSO surgery" in calendar and DRAFT.encode() not in calendar
    assert officer.get(f"/publishing/p/{mine.group}/").status_code == 200
    # Another's draft answers as a post that does not exist would.
    hidden = officer.get(f"/publishing/p/{desk_draft.group}/")
    missing = officer.get("/publishing/p/no-such-group/")
    assert hidden.status_code == missing.status_code == 404
    assert page_body(hidden) == page_body(missing)


def test_approvals_are_refused_to_roles_that_never_approve(client_for):
    for username in ("pcso.patel", "dana.desk"):
        assert client_for(username).get("/publishing/approvals/").status_code == 403
    assert client_for("sgt.hughes").get("/publishing/approvals/").status_code == 200


POLICE_PAGES = [
    "/",
    "/cases/",
    "/monitoring/",
    "/triage/routing/",
    "/triage/alerts/",
    "/desk/handover/",
    "/live/",
    "/stories/",
    "/networks/health/",
    *PUBLISHING_PAGES,
]


def test_every_police_page_refuses_the_adviser_and_her_navigation_names_none(client_for):
    adviser = client_for("ruth.iag")
    for page in POLICE_PAGES:
        response = adviser.get(page)
        assert response.status_code == 403, page
    body = adviser.get("/cases/").content.decode()
    for page in POLICE_PAGES:
        if page != "/":
            assert f'href="{page}"' not in body, page
    assert AuditEvent.objects.filter(action="access.refused").count() >= len(POLICE_PAGES)


def test_navigation_names_only_the_pages_each_role_may_open(client_for):
    def nav(username: str) -> str:
        body = client_for(username).get("/desk/handover/").content.decode()
        return body.split('<nav aria-label="Main">')[1].split("</nav>")[0]

    officer, analyst, desk = nav("pcso.patel"), nav("alex.analyst"), nav("dana.desk")
    assert 'href="/publishing/calendar/"' in officer
    for page in ("/live/", "/triage/routing/", "/networks/health/", "/stories/"):
        assert f'href="{page}"' not in officer, page
    assert 'href="/publishing/calendar/"' not in analyst
    assert 'href="/live/"' in analyst and 'href="/triage/routing/"' in analyst
    for page in ("/publishing/calendar/", "/live/", "/triage/routing/", "/networks/health/"):
        assert f'href="{page}"' in desk, page
