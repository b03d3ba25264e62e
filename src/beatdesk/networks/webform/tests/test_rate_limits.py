"""The web form's and the intake's limit of five messages per address in ten minutes,
kept in the shared cache (the database cache here, Redis at scale), per real client
address behind the force's proxies."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time

import pytest
from django.core.cache import cache, caches
from django.db import connection
from django.test import Client

from beatdesk.inbox.models import Message
from beatdesk.networks.webform import intake

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_limits():
    cache.clear()


def send(client: Client, n: int, **meta: str) -> int:
    return client.post(
        "/api/intake/",
        json.dumps({"message": f"note {n}"}),
        content_type="application/json",
        **meta,
    ).status_code


def test_two_clients_share_one_bucket_in_the_database_cache(force):
    """Was per-process memory: a second process (here a second client on the same shared
    cache) had a bucket of its own, so there was no limit at all across processes."""
    first, second = Client(), Client()
    assert [send(first if n % 2 else second, n) for n in range(5)] == [201] * 5
    assert send(Client(), 5) == 429
    assert Message.objects.count() == 5
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM beatdesk_cache WHERE cache_key LIKE '%intake-rate%'")
        assert cursor.fetchone()[0] == 5  # the slots are rows every process reads


def test_the_web_form_and_the_intake_draw_on_the_same_bucket(force):
    client = Client()
    for n in range(3):
        assert send(client, n) == 201
    for n in range(2):
        page = client.post("/contact/", {"message": f"form {n}"})
        assert page.status_code == 200
    assert client.post("/contact/", {"message": "one more"}).status_code == 429


def test_behind_the_proxy_each_address_has_its_own_bucket(force, settings):
    """Was keyed on the connecting address: behind a TLS proxy the whole public shared one
    bucket of five."""
    settings.BEATDESK_TRUSTED_PROXIES = ["10.0.0.0/8"]
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    for n in range(5):
        assert send(Client(), n, HTTP_X_FORWARDED_FOR="203.0.113.5", **proxy) == 201
    assert send(Client(), 5, HTTP_X_FORWARDED_FOR="203.0.113.5", **proxy) == 429
    assert send(Client(), 6, HTTP_X_FORWARDED_FOR="203.0.113.6", **proxy) == 201
    # A client writing its own X-Forwarded-For is still known by what the proxy added.
    spoofed = "198.51.100.1, 203.0.113.5"
    assert send(Client(), 7, HTTP_X_FORWARDED_FOR=spoofed, **proxy) == 429


def test_a_spoofed_forwarded_for_from_an_untrusted_peer_gets_no_bucket_of_its_own(force, settings):
    settings.BEATDESK_TRUSTED_PROXIES = ["10.0.0.0/8"]
    peer = {"REMOTE_ADDR": "198.51.100.9"}
    codes = [send(Client(), n, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}", **peer) for n in range(6)]
    assert codes == [201] * 5 + [429]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def redis_url(tmp_path):
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed")
    port = free_port()
    process = subprocess.Popen(  # noqa: S603
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_on_redis_the_bucket_is_shared_too(force, settings, redis_url):
    settings.CACHES = {
        "default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": redis_url}
    }
    caches.close_all()
    try:
        for _ in range(5):
            intake.check_rate("203.0.113.5")
        # Another connection, as another process would have, sees the same slots.
        other = caches.create_connection("default")
        assert len(other.get_many([f"intake-rate:203.0.113.5:{i}" for i in range(5)])) == 5
        with pytest.raises(intake.TooMany):
            intake.check_rate("203.0.113.5")
        intake.check_rate("203.0.113.6")
    finally:
        caches.close_all()
