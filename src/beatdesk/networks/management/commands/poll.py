"""`beatdesk poll`: listen to every network account that can be fetched, until stopped."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from beatdesk.networks.actions import do_fetch, fetchable_accounts


class Command(BaseCommand):
    help = "Fetch new messages for every active account with credentials, every N seconds."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--every", type=float, default=30.0, help="seconds between rounds")
        parser.add_argument("--once", action="store_true", help="one round, then exit")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            while True:
                from beatdesk.inbox.work import wake_snoozed

                wake_snoozed()
                from beatdesk.inbox.work import do_escalate_breaches

                do_escalate_breaches()
                from beatdesk.inbox.work import do_auto_assign

                do_auto_assign()
                from beatdesk.publishing.delivery import recover_stuck_posts, remind_due_appeals
                from beatdesk.publishing.tasks import send_due_posts

                recover_stuck_posts()
                remind_due_appeals()
                send_due_posts()
                from beatdesk.live.reach import take_snapshots

                take_snapshots()
                for account in fetchable_accounts():
                    outcome = do_fetch(account)
                    if outcome.status != "waiting" or options["verbosity"] > 1:
                        self.stdout.write(
                            f"{account}: {outcome.status}"
                            + (
                                f", {outcome.fetched} fetched, {outcome.stored} new"
                                if outcome.fetched
                                else ""
                            )
                            + (f" ({outcome.detail})" if outcome.detail else "")
                        )
                from beatdesk.monitoring.actions import purge_expired_operations
                from beatdesk.monitoring.collect import collect_due_watches

                for watched in collect_due_watches():
                    if watched.status != "waiting" or options["verbosity"] > 1:
                        self.stdout.write(
                            f"watch {watched.watch}: {watched.status}, {watched.stored} new"
                            + (f" ({watched.detail})" if watched.detail else "")
                        )
                purge_expired_operations()
                if options["once"]:
                    return
                time.sleep(options["every"])
        except KeyboardInterrupt:
            self.stdout.write("poll stopped; each account resumes from its cursor next time")
