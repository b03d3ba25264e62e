"""The main navigation and the error pages, for every role: every link in a role's
navigation opens (200), and the 403, 404 and 500 pages carry that navigation and a way back."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import path, reverse

from beatdesk.accounts.doors import NAVIGATION, may_open
from beatdesk.testing.fixtures import signed_in
from beatdesk.urls import urlpatterns as desk_urlpatterns

ROLE_USERS = {
    "officer": "pcso.patel",
    "desk_operator": "dana.desk",
    "supervisor": "sgt.hughes",
    "analyst": "alex.analyst",
    "administrator": "admin",
    "adviser": "ruth.iag",
}


class _NavLinks(HTMLParser):
    """The hrefs of the <a> elements inside <nav aria-label="Main">."""

    def __init__(self) -> None:
        super().__init__()
        self.depth = 0
        self.links: list[str] = []
        self.main_navs = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        if tag == "nav" and attr.get("aria-label") == "Main":
            self.depth, self.main_navs = 1, self.main_navs + 1
        elif tag == "nav" and self.depth:
            self.depth += 1
        elif tag == "a" and self.depth and attr.get("href"):
            self.links.append(str(attr["href"]))

    def handle_endtag(self, tag: str) -> None:
        if tag == "nav" and self.depth:
            self.depth -= 1


def nav_links(html: str) -> list[str]:
    parser = _NavLinks()
    parser.feed(html)
    assert parser.main_navs == 1, "the page has no main navigation"
    return parser.links


def _boom(request: object) -> None:
    raise RuntimeError("a fault in a view")


def _refused(request: object) -> None:
    raise PermissionDenied("a page nobody may open")


# The desk's URLs and two views that fail, to see the 403 (for the administrator, who may
# open every page) and 500 pages as a person sees them.
urlpatterns = [*desk_urlpatterns, path("test-boom/", _boom), path("test-refused/", _refused)]
handler403 = "beatdesk.core.views.forbidden"
handler404 = "beatdesk.core.views.not_found"
handler500 = "beatdesk.core.views.server_error"


def home_of(client: Client) -> tuple[str, list[str]]:
    """Sign-in's landing page, followed as a browser would, and its navigation links."""
    answer = client.get("/accounts/login/", follow=True)
    assert answer.status_code == 200
    return answer.content.decode(), nav_links(answer.content.decode())


@pytest.mark.parametrize("role", sorted(ROLE_USERS))
def test_every_link_in_a_roles_navigation_opens(role, users):
    client = signed_in(users[ROLE_USERS[role]])
    _, links = home_of(client)
    assert links, f"{role} has no navigation"
    for href in links:
        answer = client.get(href)
        assert answer.status_code == 200, f"{role}: {href} answered {answer.status_code}"
    # Each page the role may open from the table of doors is there, and nothing else.
    expected = [name for name, _ in NAVIGATION if may_open(role, name)]
    assert len(links) == max(len(expected), 1)


def test_the_adviser_lands_on_her_own_account_page(users):
    client = signed_in(users["ruth.iag"])
    answer = client.get("/accounts/login/", follow=True)
    assert answer.redirect_chain[-1][0] == "/accounts/"
    page = answer.content.decode()
    assert nav_links(page) == ["/accounts/"]
    assert "Change your password" in page and "second factor" in page and "Sign out" in page
    # The police pages stay closed to her.
    assert client.get("/").status_code == 403


def test_a_pcso_is_not_shown_pages_that_refuse_her(users):
    _, links = home_of(signed_in(users["pcso.patel"]))
    assert "/live/" not in links and "/networks/" not in [h[:10] for h in links]
    for href in links:
        assert signed_in(users["pcso.patel"]).get(href).status_code == 200


@pytest.mark.parametrize("role", sorted(ROLE_USERS))
def test_the_error_pages_carry_the_navigation_and_a_way_back(role, users, settings):
    settings.DEBUG = False
    settings.ROOT_URLCONF = __name__
    client = signed_in(users[ROLE_USERS[role]])
    client.raise_request_exception = False
    _, home_links = home_of(client)

    # 403: a page of the navigation this role may not open, if there is one.
    closed = [name for name, _ in NAVIGATION if not may_open(role, name)]
    answers = {
        403: client.get(reverse(closed[0]) if closed else "/test-refused/"),
        404: client.get("/no-such-page/"),
        500: client.get("/test-boom/"),
    }
    for status, answer in answers.items():
        assert answer.status_code == status, f"{role}: {status}"
        page = answer.content.decode()
        assert nav_links(page) == home_links, f"{role}: the {status} page's navigation"
        assert f'<a href="{home_links[0]}">Back to' in page, f"{role}: no way back on {status}"


def test_the_500_page_renders_when_the_request_cannot(rf):
    """Django may call handler500 with a request that has no user or session at all."""
    from beatdesk.core.views import server_error

    answer = server_error(rf.get("/"))
    assert answer.status_code == 500
    assert "Something went wrong" in answer.content.decode()
    assert 'href="/"' in answer.content.decode()


def test_the_favicon_is_linked_and_answered(client, db):
    page = client.get("/accounts/login/").content.decode()
    assert 'rel="icon"' in page and "favicon" in page
    answer = client.get("/favicon.ico", follow=True)
    assert answer.status_code == 200
    assert answer.redirect_chain and answer.redirect_chain[-1][0].endswith(".svg")
