"""Background tasks of the roster: checking and applying large imports (django-tasks).

Run by ``manage.py db_worker`` in production and ``make demo``; tests run them immediately.
The tasks take the batch's id only: the file and the choices made are on the batch.
"""

from __future__ import annotations

import logging

from django_tasks import task

from . import importing
from .models import ImportBatch

logger = logging.getLogger(__name__)


@task()
def check_import(batch_id: int) -> None:
    batch = ImportBatch.objects.filter(pk=batch_id).select_related("created_by").first()
    if batch is None:
        return
    importing.check_batch(batch)


@task()
def apply_import(batch_id: int) -> None:
    batch = ImportBatch.objects.filter(pk=batch_id).select_related("created_by").first()
    if batch is None:
        return
    try:
        importing.apply_batch(batch, batch.created_by)
    except importing.ImportRefused as refused:
        # apply_batch has put the reason on the batch, where the user sees it.
        logger.info("import batch %s not applied: %s", batch_id, refused.message)
