"""beatdesk: the social media operations desk for police forces."""

__version__ = "0.1.0"
