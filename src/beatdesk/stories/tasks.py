"""Background work of stories: clustering again what failed the first time (the workers'
sweeper hands it here). A failure fails the task, and the sweeper tries again later."""

from __future__ import annotations

from django_tasks import task

from beatdesk.stories.ingest import cluster_messages, cluster_watch_posts


@task()
def recluster_messages(message_ids: list[int]) -> None:
    """Triaged inbox messages that are in no story yet."""
    cluster_messages(message_ids)


@task()
def recluster_watch_posts(watch_post_ids: list[int]) -> None:
    """Collected watch posts that are in no story yet: clustered and counted for spikes."""
    cluster_watch_posts(watch_post_ids, quietly=False)
