"""What each network needs to connect, and which of it is secret (never shown again)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    secret: bool = False
    required: bool = True


FIELDS: dict[str, list[Field]] = {
    "mastodon": [
        Field("instance", "Instance address, e.g. https://social.police.example"),
        Field("access_token", "Access token", secret=True),
    ],
    "bluesky": [
        Field("service", "Service, e.g. https://bsky.social"),
        Field("identifier", "Handle or DID"),
        Field("app_password", "App password", secret=True),
    ],
    "x": [
        Field("api_base", "API address", required=False),
        Field("user_id", "Account's user id"),
        Field("bearer_token", "App bearer token", secret=True),
        Field("user_access_token", "User access token (for posting)", secret=True),
        Field("consumer_secret", "Consumer secret (for webhooks)", secret=True),
    ],
    "facebook": [
        Field("graph_base", "Graph API address", required=False),
        Field("page_id", "Page id"),
        Field("page_access_token", "Page access token", secret=True),
        Field("app_secret", "App secret (for webhooks)", secret=True),
        Field("verify_token", "Webhook verify token", secret=True),
    ],
    "instagram": [
        Field("graph_base", "Graph API address", required=False),
        Field("page_id", "Linked Page id"),
        Field("ig_user_id", "Instagram user id"),
        Field("page_access_token", "Page access token", secret=True),
        Field("app_secret", "App secret (for webhooks)", secret=True),
        Field("verify_token", "Webhook verify token", secret=True),
    ],
    "email": [
        Field("imap_host", "IMAP server"),
        Field("imap_port", "IMAP port", required=False),
        Field("username", "Mailbox user name"),
        Field("password", "Mailbox password", secret=True),
        Field("smtp_host", "SMTP server"),
        Field("smtp_port", "SMTP port", required=False),
        Field("smtp_username", "SMTP user name", required=False),
        Field("smtp_password", "SMTP password", secret=True, required=False),
        Field("from_address", "Send replies from"),
    ],
    "rss": [
        Field("feed_url", "Feed address"),
        Field("username", "User name (if the feed needs one)", required=False),
        Field("password", "Password", secret=True, required=False),
    ],
}
