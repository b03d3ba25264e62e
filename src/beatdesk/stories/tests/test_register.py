"""The rumour register through the desk: who may read and write, every read and write on the
audit log, notes append-only, the rebuttal drafted in the composer and linked."""

from __future__ import annotations

import datetime as dt

import pytest

from beatdesk.audit.models import AuditEvent
from beatdesk.core.clock import now
from beatdesk.stories.models import Rumour, RumourNote, Story


@pytest.fixture
def story(force, collect) -> Story:
    at = now() - dt.timedelta(minutes=5)
    collect(
        [
            ("Is it true a tiger escaped from Westmere zoo? #WestmereCarnival", at),
            ("apparently a tiger escaped from westmere zoo?? #WestmereCarnival", at),
        ]
    )
    return Story.objects.get()


def test_the_desk_promotes_a_story_sets_its_status_adds_evidence_and_links_a_rebuttal(
    story, client_for, users, account
) -> None:
    desk = client_for("dana.desk")
    page = desk.get(f"/stories/{story.pk}/")
    assert page.status_code == 200 and b"tiger escaped" in page.content
    assert AuditEvent.objects.filter(action="story.view", category="consultation").exists()

    answer = desk.post(f"/stories/{story.pk}/promote/", {"claim": "A tiger escaped from the zoo"})
    rumour = Rumour.objects.get()
    assert answer.url == f"/stories/rumours/{rumour.pk}/"
    assert rumour.status == "unverified" and rumour.owner == users["dana.desk"]
    assert desk.post(f"/stories/{story.pk}/promote/").status_code == 302  # refused, kept one
    assert Rumour.objects.count() == 1

    desk.post(
        f"/stories/rumours/{rumour.pk}/update/",
        {"status": "false", "owner": users["sgt.hughes"].pk},
    )
    desk.post(f"/stories/rumours/{rumour.pk}/update/", {"note": "Zoo confirms all animals in."})
    rumour.refresh_from_db()
    assert rumour.status == "false" and rumour.owner == users["sgt.hughes"]
    note = RumourNote.objects.get()
    with pytest.raises(ValueError, match="append-only"):
        note.save()

    page = desk.get(f"/stories/rumours/{rumour.pk}/")
    assert b"Zoo confirms" in page.content
    assert b"/publishing/compose/?kind=update&amp;text=Rumour" in page.content
    composer = desk.get("/publishing/compose/?kind=update&text=Rumour%3A+tiger")
    assert b"Rumour: tiger" in composer.content

    from beatdesk.publishing.models import Post

    post = Post.objects.create(
        force=story.force,
        account=account("@WMP_DudleyRd"),
        author=users["dana.desk"],
        text="There is no tiger: every animal at Westmere zoo is safe.",
        kind="update",
        status=Post.Status.SENT,
        sent_at=now(),
        idempotency_key="rebuttal-1",
    )
    desk.post(f"/stories/rumours/{rumour.pk}/update/", {"rebuttal": post.pk})
    rumour.refresh_from_db()
    assert rumour.rebuttal == post
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    written = {"rumour.promoted", "rumour.updated", "rumour.noted", "rumour.rebuttal_linked"}
    assert written | {"rumour.view"} <= actions


def test_an_analyst_reads_but_cannot_write_and_officers_and_advisers_are_refused(
    story, client_for
) -> None:
    analyst = client_for("alex.analyst")
    assert analyst.get("/stories/").status_code == 200
    assert analyst.get(f"/stories/{story.pk}/").status_code == 200
    assert analyst.post(f"/stories/{story.pk}/promote/").status_code == 403
    assert not Rumour.objects.exists()
    for name in ("pcso.patel", "ruth.iag"):
        assert client_for(name).get(f"/stories/{story.pk}/").status_code in (302, 403)
    officer = client_for("pcso.patel")
    assert officer.get("/stories/").status_code == 403
    assert officer.get(f"/stories/operations/{story.operation_id}/board/").status_code == 403
    refusals = AuditEvent.objects.filter(action="access.refused", category="authorization")
    assert refusals.count() >= 3


def test_the_board_shows_stories_volume_and_the_map_and_audits_the_purpose(
    story, operation, collect, client_for
) -> None:
    collect([("Crowd at the north gate #WestmereCarnival", now())], latitude=52.48, longitude=-1.89)
    desk = client_for("dana.desk")
    page = desk.get(f"/stories/operations/{operation.pk}/board/")
    assert page.status_code == 200
    assert b"tiger escaped" in page.content and b"board-map" in page.content
    assert b'"points": [[52.48, -1.89' in page.content
    event = AuditEvent.objects.filter(action="board.view").first()
    assert event is not None and "Crowd safety and disorder" in event.justification
    for _ in range(3):  # live updates showing nothing new are not recorded again
        live = desk.get(f"/stories/operations/{operation.pk}/board/live/")
        assert b"Top stories" in live.content
    assert AuditEvent.objects.filter(action="board.view").count() == 1
    collect(
        [
            ("Fireworks start at nine #WestmereCarnival", now()),
            ("fireworks start at nine tonight #WestmereCarnival", now()),
        ]
    )
    desk.get(f"/stories/operations/{operation.pk}/board/live/")
    assert AuditEvent.objects.filter(action="board.view").count() == 2
