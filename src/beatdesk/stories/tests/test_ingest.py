"""Posts reach stories by themselves: inbox messages when triage finishes a batch, watch posts
when a watch stores them. Watch posts' stories go with the posts at retention."""

from __future__ import annotations

import datetime as dt

from beatdesk.accounts.models import User
from beatdesk.audit.models import AuditEvent
from beatdesk.core.clock import now
from beatdesk.stories import ingest
from beatdesk.stories.models import Rumour, Story, StoryMember
from beatdesk.testing.fixtures import route, signed_in

TIGER = "Is it true there's a tiger loose in Westmere Park?? @WMPolice"


def test_triaged_messages_are_clustered_into_the_forces_stories(deliver, force) -> None:
    ids = []
    for n, text in enumerate(
        [TIGER, "tiger loose in westmere park?? is this real", "Thanks for the help yesterday"]
    ):
        received = deliver(
            {
                "id": f"x-{n}",
                "network": "x",
                "author": f"@a{n}",
                "text": text,
                "account": "@WMP_DudleyRd",
            }
        )
        ids.append(received.message_id)
        route(received.message_id)
    members = {m.message_id: m.story_id for m in StoryMember.objects.all()}
    assert set(members) == set(ids)
    assert members[ids[0]] == members[ids[1]] != members[ids[2]]
    story = Story.objects.get(pk=members[ids[0]])
    assert story.force == force and story.operation is None and story.size == 2
    assert story.rumour_total > 0 and story.cue_posts == 2
    assert AuditEvent.objects.filter(action="posts.clustered", category="combination").exists()
    page = signed_in(User.objects.get(username="dana.desk")).get("/stories/")
    assert f'data-story-id="{story.pk}"'.encode() in page.content


def test_a_failure_in_clustering_never_loses_the_message(deliver, monkeypatch) -> None:
    def broken(*args, **kwargs):
        raise RuntimeError("index corrupt")

    monkeypatch.setattr(ingest, "do_cluster", broken)
    received = deliver(
        {"id": "x-9", "network": "x", "author": "@z", "text": TIGER, "account": "@WMP_DudleyRd"}
    )
    message = route(received.message_id)
    assert message.triage.grade and message.team_id is not None
    assert not StoryMember.objects.exists()


def test_collected_posts_form_operation_stories_that_retention_deletes(
    collect, operation, watch, users
) -> None:
    at = now() - dt.timedelta(minutes=10)
    ids = collect(
        [
            ("Tiger loose in Westmere Park near the zoo #WestmereCarnival", at),
            ("RT @x: Tiger loose in Westmere Park near the zoo #WestmereCarnival", at),
            ("a tiger is loose near westmere zoo?? #WestmereCarnival", at),
        ]
    )
    story = Story.objects.get(operation=operation)
    assert story.size == 3 and story.force_id == operation.force_id
    rumour = Rumour.objects.create(
        force=operation.force,
        story=story,
        claim="A tiger is loose in Westmere Park",
        owner=users["dana.desk"],
        created_by=users["dana.desk"],
        created_at=now(),
        updated_at=now(),
    )
    from beatdesk.monitoring.models import WatchPost

    WatchPost.objects.filter(pk__in=ids[:2]).delete()
    story.refresh_from_db()
    assert story.size == 1
    WatchPost.objects.filter(pk__in=ids).delete()
    assert not Story.objects.filter(operation=operation).exists()
    assert not StoryMember.objects.exists()
    rumour.refresh_from_db()
    assert rumour.story is None and rumour.claim  # the register keeps the desk's own record


def test_a_worker_keeps_its_stories_in_step_when_retention_deletes_them(collect, operation) -> None:
    at = now() - dt.timedelta(minutes=10)
    text = "Tiger loose in Westmere Park near the zoo #WestmereCarnival"
    first = collect([(text, at)])
    from beatdesk.monitoring.models import WatchPost

    WatchPost.objects.filter(pk__in=first).delete()  # the story goes with its only post
    assert not Story.objects.exists()
    again = collect([(f"RT @x: {text}", at + dt.timedelta(minutes=1))])
    story = Story.objects.get()
    assert story.size == 1
    assert StoryMember.objects.get().watch_post_id == again[0]
    collect([(text, at + dt.timedelta(minutes=2))])
    story.refresh_from_db()
    assert story.size == 2  # the cached story, under its stored id
