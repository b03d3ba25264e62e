"""The Content-Security-Policy: every page carries it with a fresh nonce, and no template
holds what it would block (inline handlers, style attributes, scripts without the nonce)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver

from beatdesk.inbox.models import Message

pytestmark = pytest.mark.django_db
TEMPLATE_DIRS = [Path(settings.BASE_DIR)]
ROLES = ["dana.desk", "pcso.patel", "sgt.hughes", "alex.analyst", "admin", "ruth.iag"]


def templates() -> list[Path]:
    found = sorted(p for d in TEMPLATE_DIRS for p in d.rglob("templates/**/*.html"))
    assert len(found) > 40  # the scan really looks at the project's templates
    return found


def policy(response) -> dict[str, list[str]]:
    header = response.headers["Content-Security-Policy"]
    parts = (d.strip().split() for d in header.split(";") if d.strip())
    return {p[0]: p[1:] for p in parts}


def static_pages() -> list[str]:
    """Every URL that takes no argument, from Django's resolver."""

    def walk(patterns, prefix: str):
        for p in patterns:
            route = str(p.pattern)
            if isinstance(p, URLResolver):
                yield from walk(p.url_patterns, prefix + route)
            elif isinstance(p, URLPattern) and "<" not in route and "(" not in route:
                yield "/" + prefix + route.lstrip("^").rstrip("$")

    return sorted(set(walk(get_resolver().url_patterns, "")))


def test_the_policy_is_strict():
    # Asked of the sign-in page, which anyone can open.
    from django.test import Client

    response = Client().get("/accounts/login/")
    csp = policy(response)
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"][0] == "'self'" and csp["script-src"][1].startswith("'nonce-")
    assert csp["style-src"] == ["'self'"]
    assert csp["img-src"] == ["'self'", "data:"]
    assert csp["object-src"] == ["'none'"] and csp["base-uri"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"] and csp["form-action"] == ["'self'"]
    header = response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in header and "unsafe-eval" not in header


@pytest.mark.parametrize("username", ROLES)
def test_every_html_page_carries_the_policy_with_its_own_nonce(client_for, username, deliver):
    deliver({"text": "Someone is selling fake tickets outside the ground"})
    message = Message.objects.get()
    client = client_for(username)
    pages = static_pages() + [f"/messages/{message.pk}/"]
    seen = 0
    nonces = set()
    for url in pages:
        response = client.get(url)
        if not response.headers.get("Content-Type", "").startswith("text/html"):
            continue
        assert "Content-Security-Policy" in response.headers, url
        assert b"{#" not in response.content, url  # a template comment left on the page
        if response.status_code != 200 or b"<script" not in response.content:
            continue
        seen += 1
        nonce = policy(response)["script-src"][1].removeprefix("'nonce-").removesuffix("'")
        # json_script's data blocks (type="application/json") are never run.
        scripts = [
            s
            for s in re.findall(rb"<script\b[^>]*>", response.content)
            if b'type="application/json"' not in s
        ]
        assert scripts and all(f'nonce="{nonce}"'.encode() in s for s in scripts), url
        assert b" style=" not in response.content and b"onclick" not in response.content, url
        nonces.add(nonce)
    assert seen >= 3 and len(nonces) == seen  # a new nonce for every response


def test_the_widget_alone_may_be_framed_by_other_sites(client, force):
    from beatdesk.networks.models import NetworkAccount

    account = NetworkAccount.objects.get(force=force, handle="@WestmerePolice")
    widget = client.get(f"/public/{account.pk}/widget")
    assert widget.status_code == 200
    assert "frame-ancestors" not in policy(widget) and "X-Frame-Options" not in widget.headers
    assert policy(widget)["script-src"][0] == "'self'"
    page = client.get(f"/public/{account.pk}/")
    assert policy(page)["frame-ancestors"] == ["'none'"]


INLINE_HANDLER = re.compile(r"<[a-zA-Z][^>]*\son[a-z]+\s*=", re.S)
STYLE_ATTRIBUTE = re.compile(r"<[a-zA-Z][^>]*\sstyle\s*=", re.S)
SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.S)
STYLE_BLOCK = re.compile(r"<style\b", re.S)
NONCE = 'nonce="{{ request.csp_nonce }}"'


def test_no_template_holds_what_the_policy_blocks():
    problems = []
    for path in templates():
        text = path.read_text()
        name = path.relative_to(settings.BASE_DIR)
        if INLINE_HANDLER.search(text):
            problems.append(f"{name}: an inline on*= handler (use a listener in a static file)")
        if STYLE_ATTRIBUTE.search(text):
            problems.append(f"{name}: a style= attribute (use a class in the stylesheet)")
        for attributes in SCRIPT_TAG.findall(text):
            if NONCE not in attributes:
                problems.append(f"{name}: a <script> without the request's nonce")
        if STYLE_BLOCK.search(text):
            problems.append(f"{name}: a <style> block (move it to a stylesheet)")
        if "javascript:" in text:
            problems.append(f"{name}: a javascript: URL")
    assert problems == []


def test_htmx_is_told_not_to_eval_nor_to_inject_styles():
    base = (Path(settings.BASE_DIR) / "templates" / "base.html").read_text()
    config = re.search(r"<meta name=\"htmx-config\" content='([^']*)'>", base)
    assert config is not None
    assert '"allowEval": false' in config.group(1)
    assert '"includeIndicatorStyles": false' in config.group(1)
