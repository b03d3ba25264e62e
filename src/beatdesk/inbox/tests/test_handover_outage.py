"""A message committed while Redis is down stays stored and unread; the caller does not crash."""

from __future__ import annotations

import json
import socket

import pytest
from django.test import override_settings

from beatdesk.inbox.models import Message

pytestmark = pytest.mark.django_db(transaction=False)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_receive_survives_a_redis_outage(deliver, django_capture_on_commit_callbacks):
    url = f"redis://127.0.0.1:{_closed_port()}/0"
    tasks = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
    body = json.dumps({"id": "x-9", "network": "x", "author": "@a", "text": "hello"})
    with (
        override_settings(TASKS=tasks, RQ_QUEUES={"default": {"URL": url}}),
        django_capture_on_commit_callbacks(execute=True),
    ):
        result = deliver(body)
    assert result.status == "stored"
    assert Message.objects.filter(pk=result.message_id).exists()
