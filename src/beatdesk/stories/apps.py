from django.apps import AppConfig

from beatdesk.monitoring.signals import posts_collected


class StoriesConfig(AppConfig):
    name = "beatdesk.stories"
    label = "stories"

    def ready(self) -> None:
        from django.db.models.signals import post_delete

        from beatdesk.stories import ingest  # local import: ready() signal wiring
        from beatdesk.stories.models import StoryMember  # local import: ready() signal wiring

        posts_collected.connect(ingest.on_posts_collected, dispatch_uid="stories.collected")
        post_delete.connect(
            ingest.on_member_deleted, sender=StoryMember, dispatch_uid="stories.member_deleted"
        )
