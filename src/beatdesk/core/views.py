from __future__ import annotations

import logging

from django.contrib.staticfiles.storage import staticfiles_storage
from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.shortcuts import redirect, render
from django.template import loader
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    reason = str(exception) if exception else "You may not see this."
    return render(request, "403.html", {"reason": reason}, status=403)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    # The reason is never shown: it would name URL patterns and record ids.
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    """The 500 page with the navigation when the request still renders; when even that
    fails (the database is down, the session unreadable), a page that needs no context."""
    try:
        return render(request, "500.html", status=500)
    except Exception:
        logger.exception("the 500 page with navigation failed; answering the plain one")
        return HttpResponseServerError(loader.get_template("500_plain.html").render())


@require_safe
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico whatever the page links: send them to the SVG."""
    return redirect(staticfiles_storage.url("beatdesk/favicon.svg"), permanent=True)
