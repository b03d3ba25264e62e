"""Triage on the ingestion path: type, grade with reasons, alerts, the 999 reply, routing
rules, corrections and retraining."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command

from beatdesk.audit.models import AuditEvent
from beatdesk.publishing.models import Post
from beatdesk.testing.fixtures import route
from beatdesk.triage.models import Alert, RoutingRule, TriageCorrection

pytestmark = pytest.mark.django_db

KNIFE = "there's a man with a knife outside the Spar on Dudley Rd hurry!!"
NAN = "massive thanks to the officers who found my nan last night"


def post(deliver, text: str, account: str = "@WestmerePolice", id_: str = "x-1", **extra):
    result = deliver(
        {
            "id": id_,
            "network": "x",
            "author": "@resident",
            "text": text,
            "account": account,
            **extra,
        }
    )
    return route(result.message_id)


def test_the_knife_message_is_a_grade_1_emergency_with_reasons_and_an_alert(deliver, force):
    message = post(deliver, KNIFE, account="@WMP_DudleyRd")
    triage = message.triage
    assert triage.contact_type == "emergency" and triage.grade == 1
    assert any("knife" in r for r in triage.reasons), triage.reasons
    assert message.team.name == "Digital Desk"
    assert "Emergencies to the digital desk" in message.routing_reason
    assert Alert.objects.filter(message=message, acknowledged_at__isnull=True).exists()
    reply = Post.objects.get(in_reply_to=message)
    assert reply.status == "draft" and "999" in reply.text and reply.author is None
    assert AuditEvent.objects.filter(action="alert.raised", object_id=str(message.pk)).exists()


def test_the_thank_you_is_a_compliment_routed_to_that_areas_team_with_the_reason(deliver):
    message = post(deliver, NAN, account="@WMP_HollinsPark")
    assert message.triage.contact_type == "compliment"
    assert message.triage.grade == 4
    assert message.team.name == "Hollins Park NPT"
    assert "Hollins Park" in message.routing_reason
    assert not Alert.objects.filter(message=message).exists()


def test_a_force_that_turned_the_999_reply_off_gets_the_alert_but_no_draft(deliver, force):
    force.emergency_reply = "off"
    force.save()
    message = post(deliver, KNIFE)
    assert Alert.objects.filter(message=message).exists()
    assert not Post.objects.filter(in_reply_to=message).exists()


def test_a_place_name_in_the_text_routes_to_that_area(deliver):
    message = post(
        deliver,
        "Has anyone else had their shed broken into near Lock Street? Mine was done on Tuesday",
    )
    assert message.area.name == "Canal Side"
    assert message.team.name == "Canal Side NPT"
    assert "Lock Street" in message.routing_reason


def test_personal_data_and_language_are_found(deliver):
    message = post(
        deliver, "Mój rower został skradziony spod sklepu, proszę o pomoc. Tel 07700 900123"
    )
    assert message.triage.language == "pl"
    assert [kind for _, _, kind in message.triage.personal_data] == ["phone"]


def test_first_matching_rule_wins_and_says_which(deliver, force):
    canal = force.teams.get(slug="npt-canal-side")
    RoutingRule.objects.create(
        force=force, position=1, name="Town hashtag", hashtags=["westmerenight"], team=canal
    )
    message = post(deliver, "great night out #WestmereNight thanks for keeping us safe")
    assert message.team == canal
    assert message.routing_reason.startswith("rule 1 'Town hashtag': hashtag #westmerenight")


def test_triage_runs_once_even_if_asked_twice(deliver):
    from beatdesk.triage.actions import do_triage

    message = post(deliver, KNIFE)
    assert do_triage([message.pk]) == []
    assert Alert.objects.count() == 1


def test_staff_correct_type_and_grade_in_the_desk_and_it_is_audited(deliver, client_for, users):
    message = post(deliver, "when is the next PCSO surgery in Abbeyfield?")
    response = client_for("sgt.hughes").post(
        f"/triage/messages/{message.pk}/correct/", {"contact_type": "complaint", "grade": 2}
    )
    assert response.status_code == 302
    message.triage.refresh_from_db()
    assert message.triage.contact_type == "complaint" and message.triage.grade == 2
    assert message.triage.corrected
    correction = TriageCorrection.objects.get(message=message)
    assert correction.user == users["sgt.hughes"]
    assert correction.contact_type_before != "complaint" and correction.contact_type == "complaint"
    assert correction.grade == 2
    assert AuditEvent.objects.filter(action="triage.corrected").exists()
    page = client_for("sgt.hughes").get(f"/messages/{message.pk}/")
    assert b"corrected by staff" in page.content


def test_analysts_cannot_correct_and_bad_values_are_refused_clearly(deliver, client_for, users):
    from django.core.exceptions import ValidationError

    from beatdesk.triage.actions import check_correct_triage

    message = post(deliver, "where do I report a lost wallet")
    with pytest.raises(PermissionDenied):
        check_correct_triage(users["alex.analyst"], message.pk, contact_type="other", grade=4)
    with pytest.raises(ValidationError, match="grade"):
        check_correct_triage(users["dana.desk"], message.pk, contact_type="other", grade=9)
    response = client_for("dana.desk").post(
        f"/triage/messages/{message.pk}/correct/", {"contact_type": "nonsense", "grade": 2}
    )
    assert response.status_code == 302  # back to the message with the reason shown


def test_the_alert_bar_shows_and_acknowledging_clears_it(deliver, client_for):
    message = post(deliver, KNIFE)
    desk = client_for("dana.desk")
    bar = desk.get("/triage/alerts/")
    assert b"a man with a knife outside the Spar" in bar.content
    alert = Alert.objects.get(message=message)
    desk.post(f"/triage/alerts/{alert.pk}/acknowledge/", HTTP_HX_REQUEST="true")
    alert.refresh_from_db()
    assert alert.acknowledged_at is not None
    assert b"Grade 1" not in desk.get("/triage/alerts/").content


def test_supervisors_edit_routing_rules_and_operators_are_refused(client_for, force):
    sergeant = client_for("sgt.hughes")
    assert sergeant.get("/triage/routing/").status_code == 200
    desk_team = force.teams.get(slug="digital-desk")
    response = sergeant.post(
        "/triage/routing/new/",
        {
            "position": 5,
            "name": "Festival",
            "is_active": "on",
            "hashtags": "#WestmereFest",
            "team": desk_team.pk,
        },
    )
    assert response.status_code == 302
    rule = RoutingRule.objects.get(name="Festival")
    assert rule.hashtags == ["WestmereFest"]
    assert AuditEvent.objects.filter(action="routing_rule.saved").exists()
    bad = sergeant.post(
        "/triage/routing/new/",
        {"position": 5, "name": "x", "hashtags": "not ok!", "team": desk_team.pk},
    )
    assert bad.status_code == 200 and b"not a hashtag" in bad.content
    assert client_for("dana.desk").get("/triage/routing/new/").status_code == 403


def test_retrain_learns_from_corrections_and_reports_before_and_after(
    deliver, users, settings, tmp_path, capsys
):
    from beatdesk.triage.actions import check_correct_triage

    settings.HOME = tmp_path
    message = post(deliver, "zzq the blue kettle sings at noon")
    check_correct_triage(users["sgt.hughes"], message.pk, contact_type="request", grade=3)
    call_command("triage", "retrain")
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["corrections"] == 1
    assert {"before", "after"} <= set(report) and "emergency_recall" in report["after"]
    assert (tmp_path / "models" / "triage.joblib").exists()
    from beatdesk.triage.bundle import load_bundle

    load_bundle.cache_clear()


def test_a_news_feed_item_about_a_stabbing_is_information_not_an_alert(deliver):
    message = post(
        deliver,
        "LIVE: man with a knife outside the Spar on Dudley Rd right now, police racing there",
        account="westmere-gazette-feed",
        network="rss",
    )
    assert message.triage.grade == 3 and message.triage.contact_type == "information"
    assert not Alert.objects.filter(message=message).exists()
    assert any("news feed" in r for r in message.triage.reasons)


def test_the_alert_bar_shows_two_and_counts_the_rest(deliver, client_for):
    for i in range(4):
        post(deliver, f"{KNIFE} ({i})", id_=f"x-k{i}")
    bar = client_for("dana.desk").get("/triage/alerts/").content
    assert bar.count(b"data-alert-id") == 2 and b"2 more grade-1 messages" in bar


@pytest.mark.parametrize(
    "text",
    [
        "police here now, street pastors looking after the lad whos bleeding",
        "hes out, ambulance is here, both coppers soaked through. fair play to them",
        "Just been told by my friend that a little girl was snatched outside the school",
        "کیا یہ سچ ہے کہ اسکول کے باہر سے ایک بچے کو اغوا کر لیا گیا ہے؟",
    ],
)
def test_updates_from_the_scene_and_hearsay_do_not_raise_the_alert_on_a_hesitant_model(text):
    from beatdesk.triage.engine import grade_and_type

    contact_type, grade, reasons = grade_and_type(text, ("information", 0.5), 0.3, 2, 0.26)
    assert grade > 1 and contact_type != "emergency"
    assert any("help already there" in r or "what others say" in r for r in reasons)


def test_a_sure_model_still_raises_the_alert_on_hearsay():
    from beatdesk.triage.engine import grade_and_type

    text = "my mate just messaged, a man with a knife is outside the Spar right now"
    assert grade_and_type(text, ("emergency", 0.8), 0.8, 1, 0.26)[1] == 1
