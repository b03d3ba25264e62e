"""The web form and JSON intake: people without a network account write to the desk.

Each submission is a JSON body built by the view from the form; it is stored raw and
normalised like any network's delivery.
"""

from __future__ import annotations

from beatdesk.networks.base import Inbound, Network, PayloadError, parse_time, read_json


class WebformNetwork(Network):
    kind = "webform"
    label = "Web form"
    can_fetch = False
    can_publish = False  # replies go by email when the person left one (the email network)

    def normalise(self, body: str) -> Inbound:
        data = read_json(body, "a submission")
        if not isinstance(data, dict):
            raise PayloadError("a submission must be a JSON object")
        text = str(data.get("message") or "").strip()
        if not text:
            raise PayloadError("a submission needs a message")
        submission_id = str(data.get("id") or "")
        if not submission_id:
            raise PayloadError("a submission needs its id")
        name = str(data.get("name") or "").strip()
        reply_to = str(data.get("reply_email") or "").strip()
        return Inbound(
            network=self.kind,
            external_id=submission_id,
            author_handle=reply_to or f"web form {submission_id[:8]}",
            author_name=name,
            text=text,
            created_at=parse_time(data.get("submitted_at")),
        )
