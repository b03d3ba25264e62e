"""A command run against a database that is not there, or not migrated, says so in a line
and exits 1, never with a traceback; a worker's --help needs no database at all."""

from __future__ import annotations

import pytest

from beatdesk.testing.processes import Installation
from beatdesk.testing.services import free_port

pytestmark = pytest.mark.slow


def test_a_command_on_a_database_never_migrated_says_to_migrate(tmp_path):
    inst = Installation(tmp_path, None)
    done = inst.run("status", check=False)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "has no tables yet: run `beatdesk migrate`" in done.stderr


def test_a_command_when_postgresql_cannot_be_reached_names_the_server(tmp_path):
    port = free_port()  # nothing listens here
    inst = Installation(tmp_path, f"postgresql://postgres@127.0.0.1:{port}/beatdesk")
    done = inst.run("migrate", check=False)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert f"cannot reach the database (PostgreSQL at 127.0.0.1:{port}/beatdesk)" in done.stderr


def test_worker_help_needs_no_database(tmp_path):
    done = Installation(tmp_path, None).run("worker", "--help")
    assert "usage: beatdesk db_worker" in done.stdout


def test_a_key_file_that_cannot_be_read_stops_the_command_with_its_name(tmp_path):
    inst = Installation(tmp_path, None)
    inst.env["BEATDESK_CREDENTIALS_KEY_FILE"] = str(tmp_path / "gone.key")
    for command in (("status",), ("worker",)):
        done = inst.run(*command, check=False)
        assert done.returncode == 1 and "Traceback" not in done.stderr
        assert f"BEATDESK_CREDENTIALS_KEY_FILE names {tmp_path}/gone.key" in done.stderr
