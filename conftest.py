"""Shared pytest fixtures live in beatdesk.testing; this file only loads them."""

pytest_plugins = ["beatdesk.testing.fixtures", "beatdesk.testing.fakenet"]
