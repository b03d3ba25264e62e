"""Mastodon: mentions of the force account fetched from its instance; replies posted back."""
