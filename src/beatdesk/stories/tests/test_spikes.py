"""Spikes: a burst on a watch, against its own steady baseline, is recorded once with the
posts that made it and alerted once — on the desk, by email and by webhook. Steady volume
never alerts."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core import mail

from beatdesk.audit.models import AuditEvent
from beatdesk.stories.models import Spike
from beatdesk.stories.spikes import BUCKET, bucket_of, robust_z
from beatdesk.testing.fakenet import Response
from beatdesk.testing.mailservers import smtp_server  # noqa: F401

T0 = bucket_of(dt.datetime(2026, 8, 29, 10, 0, tzinfo=dt.UTC))


def steady(collect, buckets: int, per_bucket: int, start=T0) -> None:
    for b in range(buckets):
        at = start + b * BUCKET
        collect(
            [
                (f"Queue at gate {b}-{i} #WestmereCarnival", at + dt.timedelta(seconds=i))
                for i in range(per_bucket)
            ]
        )


def test_robust_score_ignores_one_odd_bucket_and_a_flat_series_needs_a_real_jump() -> None:
    z, median = robust_z([5, 6, 5, 4, 5, 60, 5, 6], 6)
    assert median == 5 and z < 1
    z, _ = robust_z([20] * 36, 24)  # MAD 0: scale falls back to √median
    assert z < 4
    z, _ = robust_z([20] * 36, 60)
    assert z > 4


@pytest.mark.django_db(transaction=False)
def test_steady_volume_never_spikes(collect, operation) -> None:
    steady(collect, 30, 12)
    assert not Spike.objects.exists()


def test_a_burst_spikes_once_with_its_posts_and_alerts_by_email_and_webhook_once(
    collect,
    operation,
    watch,
    settings,
    smtp_server,  # noqa: F811
    fake_network,
    client_for,
) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = smtp_server.host, smtp_server.port
    fake_network.route("POST", "/hooks/spikes", Response(204, ""))
    operation.alert_email = "control-room@westmere-police.example"
    operation.alert_webhook = fake_network.base_url + "/hooks/spikes"
    operation.save()

    steady(collect, 12, 3)  # an hour of a few posts every 5 minutes
    burst_at = T0 + 12 * BUCKET
    burst = [
        (f"Crush at the north gate, people falling #WestmereCarnival {i}", burst_at)
        for i in range(40)
    ]
    collect(burst[:25])
    collect(burst[25:])  # the same bucket grows: still the same spike
    collect(  # and the next bucket is still high: the spike continues
        [(f"North gate closed now #WestmereCarnival {i}", burst_at + BUCKET) for i in range(30)]
    )

    spikes = list(Spike.objects.filter(key=f"watch:{watch.pk}"))
    assert len(spikes) == 1
    spike = spikes[0]
    assert spike.started_at == burst_at and spike.last_bucket == burst_at + BUCKET
    assert spike.peak == 40 and spike.baseline == 3
    assert spike.posts.count() == 70
    assert "Crush at the north gate" in spike.posts.order_by("posted_at").first().text
    # The hashtag ran away too: a term spike of its own.
    assert Spike.objects.filter(key="term:westmerecarnival").count() == 1

    assert len(smtp_server.received) == 2  # one per spike, never repeated
    assert b"control-room@westmere-police.example" in smtp_server.received[0].data
    hooks = [r for r in fake_network.requests if r.path == "/hooks/spikes"]
    assert len(hooks) == 2
    body = hooks[0].json()
    assert body["event"] == "spike" and body["operation"] == "Op Lantern"
    assert f"/stories/operations/{operation.pk}/board/" in body["board"]
    assert "Crush" not in json.dumps(body)  # counts only: no post text leaves the desk
    assert AuditEvent.objects.filter(action="spike.alerted", category="disclosure").count() == 4
    assert not mail.outbox

    page = client_for("dana.desk").get(f"/stories/operations/{operation.pk}/board/")
    assert page.status_code == 200
    assert b"data-spike-id" in page.content
    bar = client_for("dana.desk").get("/stories/spikes/bar/")
    assert b"Spike" in bar.content and b"Op Lantern" in bar.content


def test_a_quiet_watch_spikes_on_its_first_burst(collect, operation, watch) -> None:
    """A watch listened from its start: the empty buckets before its first post are zeros."""
    watch.starts_at = T0 - dt.timedelta(hours=1)
    watch.save()
    collect([(f"Crush at the north gate #WestmereCarnival {i}", T0) for i in range(30)])
    assert Spike.objects.filter(key=f"watch:{watch.pk}", peak=30, baseline=0).exists()
