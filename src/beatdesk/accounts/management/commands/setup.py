"""beatdesk setup: the force and its first administrator, the keys, and what to do next.

Run again, it changes nothing and says so. Scripts pass every answer as a flag with
--no-input; otherwise it asks (the password with getpass, never echoed).
"""

from __future__ import annotations

import getpass
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import validate_email, validate_slug
from django.db import transaction

from beatdesk.accounts.actions import do_set_up
from beatdesk.accounts.models import Force, Role, User
from beatdesk.audit.actions import Category, record_system
from beatdesk.audit.checkpoint import CheckpointError, ensure_signing_key, key_path
from beatdesk.core.home import given_secret, home, secret_file


def _check(validator: Any, value: str, what: str) -> str:
    try:
        validator(value)
    except ValidationError as exc:
        raise CommandError(f"{what}: {' '.join(exc.messages)}") from exc
    return value


def ensure_keys() -> list[str]:
    """Create each key the installation uses that is not given and not yet made; return
    the names of those created (none on a second run)."""
    # The Django secret (keys/django-secret) is made by the settings as any command starts.
    made = []
    keys = home() / "keys"
    if given_secret("BEATDESK_CREDENTIALS_KEY") is None and not (keys / "credentials-key").exists():
        secret_file("credentials-key")
        made.append("credentials-key")
    if given_secret("BEATDESK_CHECKPOINT_KEY") is None and not key_path().exists():
        try:
            ensure_signing_key()
        except CheckpointError as exc:
            raise CommandError(str(exc)) from exc
        made.append("audit checkpoint signing key")
    return made


class Command(BaseCommand):
    help = "Set up a new installation: the force, its first administrator and the keys."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--force-name", help="The force's name, e.g. 'Westmere Police'.")
        parser.add_argument("--force-slug", help="Short name in lower case, e.g. 'westmere'.")
        parser.add_argument(
            "--reference-prefix", help="Prefix of case references, e.g. 'WM' (default BD)."
        )
        parser.add_argument("--admin-username")
        parser.add_argument("--admin-email")
        parser.add_argument(
            "--admin-password-file",
            help="A file holding the administrator's password (else it is asked for).",
        )
        parser.add_argument(
            "--url", default="", help="The desk's address, for the next steps (e.g. https://…)."
        )
        parser.add_argument(
            "--no-input",
            action="store_true",
            help="Ask nothing: every answer comes from the flags.",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            self._setup(opts)
        except (EOFError, KeyboardInterrupt):
            raise CommandError("cancelled: no force or administrator was created") from None

    def _setup(self, opts: dict[str, Any]) -> None:
        self.interactive = not opts["no_input"] and sys.stdin.isatty()
        # An empty home has no tables yet: make them (a no-op when they are there).
        call_command("migrate", interactive=False, verbosity=0)
        made_keys = ensure_keys()
        for name in made_keys:
            with transaction.atomic():
                record_system("setup", Category.ALTERATION, "key.created", justification=name)
        force = Force.objects.order_by("pk").first()
        admin = (
            User.objects.filter(force=force, role=Role.ADMINISTRATOR).order_by("pk").first()
            if force
            else None
        )
        if force is not None and admin is not None:
            if made_keys:
                self.stdout.write(f"Keys made that were missing: {', '.join(made_keys)}.")
            self.stdout.write(
                f"Already set up: {force.name} ({force.slug}) with administrator "
                f"{admin.username}. Nothing changed."
            )
            self._next_steps(opts["url"])
            return
        answers = self._answers(opts, force)
        if User.objects.filter(username=answers["username"]).exists():
            raise CommandError(f"a user named {answers['username']} already exists")
        force, admin = do_set_up(
            force,
            {k: answers[k] for k in ("name", "slug", "reference_prefix") if k in answers},
            {k: answers[k] for k in ("username", "email", "password")},
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Set up {force.name} ({force.slug}), case references {force.reference_prefix}-…, "
                f"with administrator {admin.username}."
            )
        )
        if made_keys:
            self.stdout.write(f"Keys made under {home() / 'keys'} and {settings.AUDIT_DIR}.")
        self._next_steps(opts["url"])

    def _ask(self, opts: dict[str, Any], name: str, prompt: str, default: str = "") -> str:
        value = opts.get(name) or ""
        if not value and self.interactive:
            shown = f" [{default}]" if default else ""
            value = input(f"{prompt}{shown}: ").strip() or default
        if not value and default:
            value = default
        if not value:
            flag = "--" + name.replace("_", "-")
            raise CommandError(f"{flag} is required with --no-input (or run it in a terminal)")
        return str(value).strip()

    def _answers(self, opts: dict[str, Any], force: Force | None) -> dict[str, str]:
        answers: dict[str, str] = {}
        if force is None:
            answers["name"] = self._ask(opts, "force_name", "Force name")
            answers["slug"] = _check(
                validate_slug,
                self._ask(opts, "force_slug", "Short name (letters, digits, -)").lower(),
                "--force-slug",
            )
            prefix = self._ask(opts, "reference_prefix", "Case reference prefix", "BD").upper()
            if not (prefix.isalnum() and len(prefix) <= 8):
                raise CommandError("--reference-prefix: up to 8 letters or digits, e.g. WM")
            answers["reference_prefix"] = prefix
        answers["username"] = self._ask(opts, "admin_username", "Administrator's username")
        answers["email"] = _check(
            validate_email, self._ask(opts, "admin_email", "Administrator's email"), "--admin-email"
        )
        answers["password"] = self._password(opts, answers["username"])
        return answers

    def _password(self, opts: dict[str, Any], username: str) -> str:
        if opts.get("admin_password_file"):
            try:
                password = Path(opts["admin_password_file"]).read_text().strip()
            except OSError as exc:
                raise CommandError(
                    f"--admin-password-file: cannot read {opts['admin_password_file']} "
                    f"({exc.strerror or exc})"
                ) from exc
            if not password:
                raise CommandError("--admin-password-file: the file is empty")
        elif self.interactive:
            password = getpass.getpass("Administrator's password: ")
            if password != getpass.getpass("The same again: "):
                raise CommandError("the two passwords differ")
        else:
            raise CommandError("--admin-password-file is required with --no-input")
        _check(
            lambda p: validate_password(p, User(username=username)),
            password,
            "administrator's password",
        )
        return password

    def _next_steps(self, url: str) -> None:
        base = url.rstrip("/") or "http://127.0.0.1:8000"
        self.stdout.write(
            "\nNext steps:\n"
            f"  1. Start the web server (`beatdesk serve`) and sign in at {base}/accounts/login/\n"
            "     as the administrator; the first sign-in enrols an authenticator app (TOTP)\n"
            "     from a QR code.\n"
            f"  2. Invite the desk's staff, add teams and areas: {base}/administration/\n"
            "  3. Run the background worker: `beatdesk worker`\n"
            "  4. Run the scheduler (periodic jobs): `beatdesk scheduler`\n"
            "  5. For PostgreSQL, Redis, keys and sealing: docs/deployment.md\n"
        )
