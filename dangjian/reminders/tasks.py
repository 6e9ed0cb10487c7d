"""The reminder job as a background task (django-tasks).

Run by ``manage.py db_worker`` in production and ``make demo``; tests run it immediately.
``manage.py send_reminders`` does the same in the foreground, for cron.
"""

from __future__ import annotations

from django.utils import timezone
from django_tasks import task

from . import services


@task()
def send_reminders(month: str | None = None) -> dict:
    """Rebuild ``month``'s lists ("YYYY-MM", default this month) and e-mail what is new."""
    today = timezone.localdate()
    first = services.parse_month(month) if month else None
    result = services.send(first or today.replace(day=1), today)
    return result.as_dict()
