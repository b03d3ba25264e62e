"""`beatdesk audit verify|checkpoint`: check the chain, or sign its head."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from beatdesk.audit.chain import seal, unsealed, verify_chain
from beatdesk.audit.checkpoint import (
    CheckpointError,
    checkpoints_path,
    read_checkpoints,
    write_checkpoint,
)


class Command(BaseCommand):
    help = "Verify the audit chain, or write a signed checkpoint of its head."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="what", required=True)
        verify = sub.add_parser("verify", help="check every entry and the signed checkpoints")
        verify.add_argument("--json", action="store_true", help="print one JSON object")
        verify.add_argument(
            "--no-seal",
            action="store_true",
            help="only read: do not first seal the events committed but not yet chained",
        )
        sub.add_parser("checkpoint", help="seal committed events and sign the chain's head")
        sub.add_parser("seal", help="chain the events committed but not yet sealed")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["what"] == "seal":
            self.stdout.write(f"Sealed {seal()} event(s) into the audit chain.")
            return
        if options["what"] == "checkpoint":
            try:
                cp = write_checkpoint()
            except CheckpointError as exc:
                raise CommandError(f"no checkpoint written: {exc}") from exc
            if cp is None:
                self.stdout.write("The audit log is empty: nothing to checkpoint.")
            else:
                self.stdout.write(
                    f"Checkpoint signed at sequence {cp.sequence} ({cp.hash[:16]}…) "
                    f"in {checkpoints_path()}"
                )
            return
        try:
            checkpoints = read_checkpoints()
        except CheckpointError as exc:
            raise CommandError(f"audit chain NOT verified: {exc}") from exc
        if not options["no_seal"]:
            seal()
        report = verify_chain({cp.sequence: cp.hash for cp in checkpoints})
        tail = unsealed()
        oldest = tail.oldest.isoformat() if tail.oldest else None
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "ok": report.ok,
                        "checked": report.checked,
                        "last_sequence": report.last_sequence,
                        "checkpoints": len(checkpoints),
                        "broken_sequence": report.problem.sequence if report.problem else None,
                        "reason": report.problem.reason if report.problem else None,
                        "unsealed": tail.count,
                        "oldest_unsealed_at": oldest,
                    }
                )
            )
        if report.problem:
            raise CommandError(
                f"audit chain BROKEN at sequence {report.problem.sequence}: {report.problem.reason}"
            )
        if not options["json"]:
            self.stdout.write(
                self.style.SUCCESS(
                    f"audit chain OK: {report.checked} entries, head at sequence "
                    f"{report.last_sequence}, {len(checkpoints)} signed checkpoint(s) match"
                )
            )
            if tail.count:
                # Written but not yet chained: not protected by the chain until sealed.
                self.stdout.write(
                    self.style.WARNING(
                        f"{tail.count} event(s) not yet sealed into the chain, the oldest "
                        f"written at {oldest}: not verified until sealed"
                    )
                )
