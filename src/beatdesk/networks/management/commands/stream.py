"""`beatdesk stream --account HANDLE`: live mentions from a Mastodon account's stream."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from beatdesk.networks.mastodon.stream import listen
from beatdesk.networks.models import NetworkAccount


class Command(BaseCommand):
    help = "Listen to a Mastodon account's streaming API, back-filling by REST on every reconnect."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--account", required=True, help="the Mastodon account's handle")

    def handle(self, *args: Any, **options: Any) -> None:
        account = NetworkAccount.objects.filter(kind="mastodon", handle=options["account"]).first()
        if account is None:
            raise CommandError(f"no Mastodon account with the handle {options['account']!r}")
        if not account.has_credentials:
            raise CommandError(f"{account} has no credentials: connect it in the desk first")
        try:
            listen(account, on_event=lambda status: self.stdout.write(f"{account}: {status}"))
        except KeyboardInterrupt:
            self.stdout.write("stream stopped; the next back-fill catches up from the cursor")
