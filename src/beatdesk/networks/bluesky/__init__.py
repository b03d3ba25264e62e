"""Bluesky (AT Protocol): mentions, replies and quotes in through listNotifications; posts out."""
