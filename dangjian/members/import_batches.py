"""Starting an import and confirming it: the steps the pages and the API share.

The work itself (reading, checking, applying a workbook) is in ``importing``; here a batch is
received, checked inline or queued by size, and claimed for applying exactly once.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from dangjian.accounts.roles import Perm
from dangjian.accounts.scope import has_perm_anywhere

from . import importing, tasks
from .models import ImportBatch

CONFIRMABLE = (ImportBatch.Status.CHECKED, ImportBatch.Status.FAILED)
# A batch "applying" with no progress for this long lost its process (killed, restarted);
# its transaction rolled back, so it may be confirmed again.
STALLED_AFTER = timedelta(minutes=30)


def stalled(batch: ImportBatch) -> bool:
    return (
        batch.status == ImportBatch.Status.APPLYING
        and batch.updated_at is not None
        and timezone.now() - batch.updated_at > STALLED_AFTER
    )


def require_import(user) -> None:
    if not has_perm_anywhere(user, Perm.MANAGE_MEMBERS):
        raise PermissionDenied(_("您无权导入党员名册。"))


def receive(user, filename: str, size: int, read) -> ImportBatch:
    """Store an upload and check it (inline when small, queued when large).

    ``read(n)`` reads at most n bytes of the upload; ImportRefused says why a file is refused.
    """
    require_import(user)
    if size > importing.MAX_UPLOAD_BYTES:
        raise importing.ImportRefused(
            _("文件大小超过 %(mb)d MB 的上限，请分成几个文件分批导入。")
            % {"mb": importing.MAX_UPLOAD_BYTES // (1024 * 1024)}
        )
    content = read(importing.MAX_UPLOAD_BYTES + 1)
    rows = importing.inspect_upload(filename, content)
    batch = ImportBatch.objects.create(
        created_by=user,
        filename=filename[-200:],
        content=content,
        sha256=hashlib.sha256(content).hexdigest(),
        total_rows=rows or 0,
    )
    if rows is not None and rows <= importing.INLINE_ROWS:
        importing.check_batch(batch)
    else:
        tasks.check_import.enqueue(batch.pk)
    return batch


def confirm(batch: ImportBatch, actor, valid_rows_only: bool) -> tuple[ImportBatch, bool]:
    """Apply a checked batch; returns the batch and whether it was queued (large files).

    Refused (ImportRefused) while the file has errors unless ``valid_rows_only`` is chosen,
    and when the batch is not waiting for confirmation (a second click claims nothing).
    """
    confirmable = batch.status in CONFIRMABLE or stalled(batch)
    if not confirmable or not (batch.preview or {}).get("digest"):
        raise importing.ImportRefused(_("该批次当前不能确认导入。"))
    if batch.error_rows and not valid_rows_only:
        raise importing.ImportRefused(
            _(
                "文件中有 %(n)d 行存在错误，未导入任何数据。"
                "请修改后重新上传，或勾选“仅导入无误的行”后再确认。"
            )
            % {"n": batch.error_rows}
        )
    claimable = ImportBatch.objects.filter(pk=batch.pk).filter(
        Q(status__in=CONFIRMABLE)
        | Q(status=ImportBatch.Status.APPLYING, updated_at__lt=timezone.now() - STALLED_AFTER)
    )
    claimed = claimable.update(
        status=ImportBatch.Status.APPLYING,
        valid_rows_only=valid_rows_only,
        processed_rows=0,
        message="",
        updated_at=timezone.now(),
    )
    if not claimed:
        raise importing.ImportRefused(_("该批次正在导入或已经导入。"))
    if batch.total_rows > importing.INLINE_ROWS:
        tasks.apply_import.enqueue(batch.pk)
        return batch, True
    return importing.apply_batch(batch, actor, valid_rows_only=valid_rows_only), False
