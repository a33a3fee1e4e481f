"""How background work that failed tries again: one schedule and one way to defer a task,
for every task that talks to a third party (emails, alert deliveries)."""

from datetime import datetime, timedelta
from typing import Any

from django.tasks import Task

# The wait before each retry: after the 1st failed try, the 2nd, … Then it gives up.
RETRY_DELAYS = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(minutes=120))
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1


def enqueue_later(task: Task[Any, Any], when: datetime, *args: Any) -> bool:
    """Queue `task(*args)` to run at `when`; False when the backend cannot defer tasks
    (only the backend tests use runs them at once)."""
    if not task.get_backend().supports_defer:
        return False
    task.using(run_after=when).enqueue(*args)
    return True
