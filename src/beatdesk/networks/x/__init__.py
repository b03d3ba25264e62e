"""The X (Twitter API v2) connector: mentions fetched, Account Activity webhooks read, posts."""
