from django.apps import AppConfig

from beatdesk.networks import receiver


class InboxConfig(AppConfig):
    name = "beatdesk.inbox"
    label = "inbox"

    def ready(self) -> None:
        # The networks hand what they bring in to the one ingestion path, which is ours.
        from beatdesk.inbox import actions  # local import: ready() wiring, models loaded

        receiver.register(actions.do_receive, actions.do_receive_many)
