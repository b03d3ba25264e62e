"""`beatdesk serve`: the desk's web server (waitress, a production WSGI server)."""

from __future__ import annotations

import os
from typing import Any

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Serve the desk on http://HOST:PORT (port from BEATDESK_PORT, default 8000)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("BEATDESK_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("BEATDESK_PORT", 8000)))
        parser.add_argument("--threads", type=int, default=8)

    def handle(self, *args: Any, **options: Any) -> None:
        from django.core.wsgi import get_wsgi_application
        from waitress import serve

        application = get_wsgi_application()  # as beatdesk.wsgi makes it

        self.stdout.write(f"beatdesk serving on http://{options['host']}:{options['port']}/")
        serve(
            application,
            host=options["host"],
            port=options["port"],
            threads=options["threads"],
            ident="beatdesk",
        )
