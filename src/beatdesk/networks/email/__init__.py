"""The email connector: a force mailbox read over IMAP and answered over SMTP."""
