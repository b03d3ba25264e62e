"""Receiving a submission: limits, the honeypot, and the hand-over to the ingestion path."""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from beatdesk.core.clock import now, utc_iso
from beatdesk.networks.models import NetworkAccount
from beatdesk.networks.receiver import receive

MAX_MESSAGE = 5000
RATE_LIMIT = 5  # submissions per address per window
RATE_WINDOW_S = 10 * 60

logger = logging.getLogger(__name__)


class IntakeError(ValueError):
    """The submission cannot be taken; the message says why, in words for the public."""


class TooMany(IntakeError):
    pass


@dataclass(frozen=True)
class Submitted:
    reference: str
    status: str


def intake_account() -> NetworkAccount:
    account = NetworkAccount.objects.filter(kind="webform", is_active=True).order_by("pk").first()
    if account is None:
        raise IntakeError("the web form is not set up on this desk yet")
    return account


def check_rate(address: str) -> None:
    """At most RATE_LIMIT submissions per address in any RATE_WINDOW_S, counted in the
    shared cache so that every process (and machine) draws on the same bucket: each
    submission takes one of RATE_LIMIT slots, which frees itself a window later. Taking a
    slot is an atomic add, on the database cache as on Redis."""
    slots = [f"intake-rate:{address}:{slot}" for slot in range(RATE_LIMIT)]
    try:
        taken = cache.get_many(slots)
        for slot in slots:
            if slot not in taken and cache.add(slot, 1, RATE_WINDOW_S):
                return
    except Exception:
        # The cache is out of reach (Redis restarting): take the message rather than lose
        # it; the limit is back with the cache.
        logger.warning("rate limit not checked: the cache is out of reach", exc_info=True)
        return
    raise TooMany("too many messages from this address: please wait ten minutes")


def submit(*, message: str, name: str = "", reply_email: str = "", address: str = "") -> Submitted:
    message = (message or "").strip()
    if not message:
        raise IntakeError("please write a message")
    if len(message) > MAX_MESSAGE:
        raise IntakeError(f"please keep the message under {MAX_MESSAGE} characters")
    if reply_email:
        try:
            validate_email(reply_email)
        except ValidationError as exc:
            raise IntakeError("that email address does not look right") from exc
    check_rate(address or "unknown")
    account = intake_account()
    reference = uuid.uuid4().hex
    body = json.dumps(
        {
            "id": reference,
            "name": name.strip()[:200],
            "reply_email": reply_email.strip()[:254],
            "message": message,
            "submitted_at": utc_iso(now()),
        },
        ensure_ascii=False,
    )
    result = receive(account, body)
    return Submitted(reference=reference[:12].upper(), status=result.status)
