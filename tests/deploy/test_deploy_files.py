"""The files under deploy/ hang together: the compose file's structure (docker is not run
here), the systemd units, the environment file example and the deployment document."""

from __future__ import annotations

import configparser
import re
import runpy
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
WEB = "gunicorn -c /etc/beatdesk/gunicorn.conf.py beatdesk.wsgi:application"
DOC = (REPO / "docs" / "deployment.md").read_text(encoding="utf-8")


def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(DEPLOY / "systemd" / name)
    return parser


def test_compose_runs_postgres_redis_web_workers_and_the_scheduler_from_one_image():
    services = compose()["services"]
    assert {"postgres", "redis", "migrate", "web", "worker", "scheduler"} <= set(services)
    assert services["postgres"]["image"].startswith("postgres:15")
    beatdesk = ("migrate", "web", "worker", "scheduler")
    for name in beatdesk:
        service = services[name]
        assert service["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}
        assert service["environment"]["BEATDESK_TASKS"] == "rq"
        assert service["environment"]["REDIS_URL"] == "redis://redis:6379/0"
        assert service["environment"]["DATABASE_URL"].startswith("postgresql://")
        assert "beatdesk-home:/var/lib/beatdesk" in service["volumes"]
        assert service["env_file"] == "beatdesk.env"
    assert services["web"]["command"][-1] == "beatdesk.wsgi:application"
    assert services["worker"]["command"] == ["beatdesk", "worker"]
    assert services["worker"]["deploy"]["replicas"] >= 2
    assert services["scheduler"]["command"] == ["beatdesk", "scheduler"]
    assert services["migrate"]["command"][:2] == ["beatdesk", "migrate"]
    # Migrations first; the migration service does not wait on itself.
    for name in ("web", "worker", "scheduler"):
        waits = services[name]["depends_on"]
        assert waits["migrate"]["condition"] == "service_completed_successfully"
        assert waits["postgres"]["condition"] == "service_healthy"
    assert "migrate" not in services["migrate"]["depends_on"]
    assert set(compose()["volumes"]) >= {"pgdata", "beatdesk-home", "beatdesk-audit"}


def test_the_dockerfile_builds_what_compose_names():
    dockerfile = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    assert dockerfile.startswith("#") and "FROM python:3.11" in dockerfile
    assert "COPY deploy/gunicorn.conf.py /etc/beatdesk/gunicorn.conf.py" in dockerfile
    assert '"beatdesk.wsgi:application"' in dockerfile
    assert "USER beatdesk" in dockerfile


@pytest.mark.parametrize(
    ("name", "command"),
    [
        ("beatdesk-web.service", WEB),
        ("beatdesk-worker@.service", "beatdesk worker"),
        ("beatdesk-scheduler.service", "beatdesk scheduler"),
        ("beatdesk-poll.service", "beatdesk poll"),
        ("beatdesk-checkpoint.service", "beatdesk audit checkpoint"),
    ],
)
def test_each_unit_runs_its_command_as_beatdesk_with_the_environment_file(name, command):
    service = unit(name)["Service"]
    assert service["ExecStart"] == f"/opt/beatdesk/venv/bin/{command}"
    assert service["User"] == "beatdesk"
    assert service["EnvironmentFile"] == "/etc/beatdesk/beatdesk.env"
    assert service["ReadWritePaths"] == "/var/lib/beatdesk"
    assert name in DOC


def test_the_poller_and_the_scheduler_never_run_together():
    assert unit("beatdesk-poll.service")["Unit"]["Conflicts"] == "beatdesk-scheduler.service"


def test_every_setting_in_the_environment_example_is_in_the_document():
    example = (DEPLOY / "beatdesk.env.example").read_text(encoding="utf-8")
    names = re.findall(r"^([A-Z_]+)=", example, flags=re.M)
    assert {"DATABASE_URL", "REDIS_URL", "BEATDESK_SECRET_KEY", "BEATDESK_TASKS"} <= set(names)
    missing = [name for name in names if f"`{name}`" not in DOC]
    assert not missing, f"not described in docs/deployment.md: {missing}"


def test_the_gunicorn_config_binds_where_the_environment_says(monkeypatch):
    monkeypatch.setenv("BEATDESK_BIND", "127.0.0.1:8123")
    config = runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))
    assert config["bind"] == "127.0.0.1:8123"
    assert config["worker_class"] == "gthread" and config["workers"] >= 1


def test_the_readme_links_the_deployment_document():
    assert "docs/deployment.md" in (REPO / "README.md").read_text(encoding="utf-8")
