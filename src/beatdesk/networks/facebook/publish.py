"""Publishing through the Graph API with the Page access token.

Facebook: a Page post (POST /{page-id}/feed), a reply to a comment (POST
/{comment-id}/comments) or a Messenger reply (POST /{page-id}/messages, messaging_type
RESPONSE, only inside the 24 hours after the person last wrote). Instagram: a reply to a
comment (POST /{ig-comment-id}/replies) or to a direct message (POST /{page-id}/messages,
the Page the account is linked to); new Instagram media needs an image and is not offered.
Comments are hidden with POST /{comment-id} is_hidden=true (Facebook) or hide=true
(Instagram).
"""

from __future__ import annotations

from typing import Any

from beatdesk.networks.base import NetworkRefused, NotSupported, TransientError
from beatdesk.networks.facebook.client import DEFAULT_GRAPH_BASE, PUBLISH_TIMEOUT, request

MESSENGER_MAX_TEXT = 2000  # the Send API refuses longer text
CONVERSATION_PREFIX = "conv:"


def _token(credentials: dict[str, Any]) -> str:
    token = credentials.get("page_access_token")
    if not token:
        raise NetworkRefused("this Meta account has no page_access_token")
    return str(token)


def _base(credentials: dict[str, Any]) -> str:
    return str(credentials.get("graph_base") or DEFAULT_GRAPH_BASE).rstrip("/")


def _need(credentials: dict[str, Any], key: str) -> str:
    value = str(credentials.get(key) or "").strip()
    if not value:
        raise NetworkRefused(f"this Meta account has no {key}")
    return value


def _check_text(text: str) -> None:
    if not text or not text.strip():
        raise ValueError("a Facebook or Instagram post, comment or message needs some text")


def _post(
    credentials: dict[str, Any],
    path: str,
    what: str,
    body: dict[str, Any] | None = None,
    params: dict[str, str] | None = None,
) -> dict[str, Any]:
    answer = request(
        "POST",
        f"{_base(credentials)}/{path.lstrip('/')}",
        token=_token(credentials),
        app_secret=str(credentials.get("app_secret") or ""),
        what=what,
        params=params,
        body=body,
        timeout=PUBLISH_TIMEOUT,
    )
    return answer.data


def _new_id(data: dict[str, Any], key: str, what: str) -> str:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, str | int) or not str(value):
        raise TransientError(f"Meta accepted {what} but did not say its id")
    return str(value)


def _conversation(reply_to: str, own_id: str) -> str:
    """The other person's scoped id out of "conv:<own id>-<their id>"."""
    ours, _, theirs = reply_to[len(CONVERSATION_PREFIX) :].partition("-")
    if not ours or not theirs:
        raise ValueError(f"not a conversation to reply in: {reply_to!r}")
    if ours != own_id:
        raise ValueError(f"conversation {reply_to!r} belongs to another account")
    return theirs


def send_message(credentials: dict[str, Any], own_id: str, reply_to: str, text: str) -> str:
    """A private reply in a Messenger or Instagram conversation; the new message's mid."""
    _check_text(text)
    if len(text) > MESSENGER_MAX_TEXT:
        raise ValueError(
            f"too long for a private message: {len(text)} of {MESSENGER_MAX_TEXT} characters"
        )
    recipient = _conversation(reply_to, own_id)
    page_id = _need(credentials, "page_id")
    data = _post(
        credentials,
        f"{page_id}/messages",
        "sending a private reply",
        {"recipient": {"id": recipient}, "messaging_type": "RESPONSE", "message": {"text": text}},
    )
    return _new_id(data, "message_id", "the message")


def publish_facebook(credentials: dict[str, Any], text: str, reply_to: str = "") -> str:
    """A Page post, a comment reply, or a Messenger reply; the new id."""
    _check_text(text)
    page_id = _need(credentials, "page_id")
    if reply_to.startswith(CONVERSATION_PREFIX):
        return send_message(credentials, page_id, reply_to, text)
    if reply_to:
        data = _post(
            credentials, f"{reply_to}/comments", "replying to a comment", {"message": text}
        )
        return _new_id(data, "id", "the reply")
    data = _post(credentials, f"{page_id}/feed", "posting to the Page", {"message": text})
    return _new_id(data, "id", "the post")


def publish_instagram(credentials: dict[str, Any], text: str, reply_to: str = "") -> str:
    """A reply to an Instagram comment or direct message; the new id."""
    _check_text(text)
    if not reply_to:
        raise NotSupported(
            "a new Instagram post needs an image or video; the desk only replies on Instagram"
        )
    if reply_to.startswith(CONVERSATION_PREFIX):
        return send_message(credentials, _need(credentials, "ig_user_id"), reply_to, text)
    data = _post(
        credentials, f"{reply_to}/replies", "replying to an Instagram comment", {"message": text}
    )
    return _new_id(data, "id", "the reply")


def _hidden(data: dict[str, Any], what: str) -> None:
    if data.get("success") is not True:
        raise TransientError(f"Meta did not confirm {what}")


def hide_facebook_comment(credentials: dict[str, Any], comment_id: str, hidden: bool) -> None:
    if not comment_id:
        raise ValueError("which comment to hide?")
    what = "hiding a comment" if hidden else "unhiding a comment"
    _hidden(_post(credentials, comment_id, what, {"is_hidden": hidden}), what)


def hide_instagram_comment(credentials: dict[str, Any], comment_id: str, hidden: bool) -> None:
    if not comment_id:
        raise ValueError("which comment to hide?")
    what = "hiding a comment" if hidden else "unhiding a comment"
    params = {"hide": "true" if hidden else "false"}
    _hidden(_post(credentials, comment_id, what, params=params), what)
