"""The message page before the triage step has read the message."""

from __future__ import annotations


def test_a_message_not_yet_triaged_opens_with_its_text(deliver, client_for):
    received = deliver(
        {
            "id": "x-untriaged",
            "network": "x",
            "author": "@resident",
            "text": "Call me on 07700 900123 about the bike",
            "account": "@WestmerePolice",
        }
    )
    page = client_for("dana.desk").get(f"/messages/{received.message_id}/")
    assert page.status_code == 200
    assert "Call me on 07700 900123 about the bike" in page.content.decode()
