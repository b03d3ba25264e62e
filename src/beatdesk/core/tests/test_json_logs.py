"""BEATDESK_LOG_FORMAT=json: a command's log lines are JSON objects a log shipper can read."""

from __future__ import annotations

import json

import pytest

from beatdesk.testing.processes import installation

pytestmark = pytest.mark.slow


def test_a_command_logs_json_lines_with_level_logger_message_and_time(tmp_path):
    with installation(tmp_path) as inst:
        inst.migrate()
        inst.env.update(BEATDESK_LOG_FORMAT="json", BEATDESK_TASKS="database")
        said = inst.run("scheduler", "--once")
        lines = [line for line in (said.stdout + said.stderr).splitlines() if line.startswith("{")]
        assert lines, said.stdout + said.stderr
        records = [json.loads(line) for line in lines]
        handed = [r for r in records if r["logger"] == "beatdesk.operations.scheduler"]
        assert handed and {"level", "logger", "message", "time"} <= set(handed[0])
        assert handed[0]["level"] == "INFO" and "handed" in handed[0]["message"]
        # Plain stays the default (nothing ran the jobs: hand them over again as lost).
        del inst.env["BEATDESK_LOG_FORMAT"]
        inst.env.update(BEATDESK_SCHEDULER_LOST_SECONDS="0", BEATDESK_EVERY_ESCALATE_SECONDS="0")
        plain = inst.run("scheduler", "--once")
        assert "INFO beatdesk.operations.scheduler: handed" in plain.stderr
