"""Signals other parts of the desk listen to.

`posts_collected` is sent (after the transaction commits) with `watch_post_ids`, the ids of
WatchPosts a watch has just stored; the stories engine clusters them.
"""

from django.dispatch import Signal

posts_collected = Signal()
