"""Where to go after a form: only ever back into this site (no open redirects)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.shortcuts import resolve_url
from django.utils.http import url_has_allowed_host_and_scheme


def safe_next(request: HttpRequest, candidate: str | None, default: Any) -> str:
    """The `next` a page was given if it stays on this host, else the default (a URL or a
    view name). A `next` to another host or scheme is ignored, never followed."""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return resolve_url(default)
