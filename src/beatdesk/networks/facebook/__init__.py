"""The Meta connector: Facebook Page comments and Messenger, Instagram comments and DMs."""
