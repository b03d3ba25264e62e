"""Surge mode: preview, apply to a selection or a whole filter, undo within the window."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from beatdesk.audit.models import AuditEvent
from beatdesk.inbox import bulk
from beatdesk.inbox.actions import do_receive_many
from beatdesk.inbox.models import BulkOperation, Message
from beatdesk.inbox.queries import visible_messages

pytestmark = pytest.mark.django_db


@pytest.fixture
def flood(account):
    bodies = [
        f'{{"id": "s-{i}", "network": "x", "text": "is it true about the van {i}?", '
        f'"account": "@WestmerePolice"}}'
        for i in range(300)
    ]
    do_receive_many(account("replay"), bodies, hand_on=False)
    return Message.objects.filter(external_id__startswith="s-")


def test_a_preview_counts_then_closing_everything_matching_can_be_undone(flood, users):
    dana = users["dana.desk"]
    everything = visible_messages(dana).filter(external_id__startswith="s-")
    plan = bulk.preview(dana, everything, "close", outcome="answered")
    assert plan.count == 300 and len(plan.sample) == 10
    assert Message.objects.filter(state="closed").count() == 0  # a preview changes nothing
    operation = bulk.apply(dana, everything, "close", outcome="answered")
    assert Message.objects.filter(state="closed", outcome="answered").count() == 300
    assert AuditEvent.objects.filter(action="messages.bulk_close").count() == 1
    bulk.undo(dana, operation.pk)
    assert Message.objects.filter(state="open", outcome="").count() == 300
    with pytest.raises(ValidationError, match="nothing to undo"):
        bulk.undo(dana, operation.pk)


def test_assigning_a_selection_and_the_undo_window(flood, users):
    dana, sergeant = users["dana.desk"], users["sgt.hughes"]
    chosen = visible_messages(dana).filter(pk__in=list(flood.values_list("pk", flat=True)[:5]))
    operation = bulk.apply(dana, chosen, "assign", assignee=sergeant)
    assert Message.objects.filter(assignee=sergeant, state="claimed").count() == 5
    BulkOperation.objects.filter(pk=operation.pk).update(
        created_at=operation.created_at - dt.timedelta(minutes=11)
    )
    with pytest.raises(ValidationError, match="undo window has passed"):
        bulk.undo(dana, operation.pk)


def test_the_desk_previews_then_applies_on_everything_a_filter_matches(flood, client_for):
    desk = client_for("dana.desk")
    preview = desk.post(
        "/desk/bulk/",
        {"scope": "filter", "action": "close", "outcome": "no_action", "next": "/?network=x"},
    )
    assert preview.status_code == 200 and b"close 300 message(s)" in preview.content
    done = desk.post(
        "/desk/bulk/",
        {
            "scope": "filter",
            "action": "close",
            "outcome": "no_action",
            "next": "/?network=x",
            "confirm": "1",
        },
        follow=True,
    )
    assert b"Done: close 300" in done.content and b"Undo the last bulk action" in done.content
    assert Message.objects.filter(state="closed").count() == 300
    nothing = desk.post(
        "/desk/bulk/",
        {"scope": "selected", "action": "close", "outcome": "no_action", "next": "/"},
        follow=True,
    )
    assert b"no open messages match" in nothing.content


def test_replying_to_a_whole_surge_with_a_template(flood, users):
    from beatdesk.publishing.models import Post, ReplyTemplate

    dana = users["dana.desk"]
    template = ReplyTemplate.objects.get(name="Passed to the local team")
    chosen = visible_messages(dana).filter(external_id__in=["s-1", "s-2", "s-3"])
    with pytest.raises(ValidationError, match="choose the template"):
        bulk.preview(dana, chosen, "reply")
    plan = bulk.preview(dana, chosen, "reply", template=template)
    assert "cannot be called back" in plan.description
    bulk.apply(dana, chosen, "reply", template=template)
    posts = Post.objects.filter(in_reply_to__external_id__in=["s-1", "s-2", "s-3"])
    assert posts.count() == 3 and all("neighbourhood team" in p.text for p in posts)
    assert set(posts.values_list("status", flat=True)) == {"scheduled"}
    assert (
        Message.objects.filter(external_id__in=["s-1", "s-2", "s-3"], outcome="answered").count()
        == 3
    )
