"""BEATDESK_LOG_FORMAT=json: a command's log lines are JSON objects a log shipper can read."""

from __future__ import annotations

import json
import os
import subprocess
import sys

LOG = "import logging; logging.getLogger('beatdesk.test').warning('queue %s is slow', 'default')"


def _run(tmp_path, fmt: str | None) -> str:
    env = {**os.environ, "BEATDESK_HOME": str(tmp_path)}
    env.pop("BEATDESK_LOG_FORMAT", None)
    if fmt:
        env["BEATDESK_LOG_FORMAT"] = fmt
    result = subprocess.run(
        [sys.executable, "-m", "beatdesk", "shell", "-c", LOG],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stderr


def test_json_log_line_has_level_logger_message_and_time(tmp_path):
    lines = [line for line in _run(tmp_path, "json").splitlines() if "beatdesk.test" in line]
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert record["level"] == "WARNING"
    assert record["logger"] == "beatdesk.test"
    assert record["message"] == "queue default is slow"
    assert record["time"]


def test_plain_logs_stay_the_default(tmp_path):
    out = _run(tmp_path, None)
    assert "WARNING beatdesk.test: queue default is slow" in out
