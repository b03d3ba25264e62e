"""The RSS/Atom connector: read-only sources (local news, council and partner feeds)."""
