"""`beatdesk status --json`: what the desk holds and how much work is waiting."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from beatdesk.operations.status import counts


class Command(BaseCommand):
    help = "Print counts of messages, conversations, cases, posts, audit events and pending work."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        data = counts()
        if options["json"]:
            self.stdout.write(json.dumps(data))
            return
        queues = data.pop("queues")
        width = max(len(k) for k in data)
        for key, value in data.items():
            self.stdout.write(f"{key.replace('_', ' '):<{width}}  {value}")
        for name, detail in queues.items():  # type: ignore[attr-defined]
            said = ", ".join(f"{n} {what}" for what, n in detail.items())
            self.stdout.write(f"{'queue ' + name:<{width}}  {said}")
