"""Roster import and export pages: upload, preview, confirm, progress, template, export."""

from __future__ import annotations

import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from dangjian.accounts.roles import Perm
from dangjian.accounts.scope import has_perm_anywhere, scope_roots

from . import exporting, import_batches, importing
from .models import ImportBatch
from .roster import filter_roster
from .template_xlsx import build_template
from .views import roster_filters, visible_members

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
RUNNING = (ImportBatch.Status.PENDING, ImportBatch.Status.CHECKING, ImportBatch.Status.APPLYING)


def _require_import(request) -> None:
    import_batches.require_import(request.user)


def _own_batch(request, pk: int) -> ImportBatch:
    """A batch is seen by the user who uploaded it, and by no one else (404)."""
    _require_import(request)
    return get_object_or_404(ImportBatch.objects.defer("content"), pk=pk, created_by=request.user)


@login_required
def index(request):
    _require_import(request)
    error = None
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            error = _("请选择要上传的文件。")
        else:
            try:
                batch = import_batches.receive(request.user, upload.name, upload.size, upload.read)
            except importing.ImportRefused as refused:
                error = refused.message
            else:
                return redirect(batch)
    batches = ImportBatch.objects.filter(created_by=request.user).defer("content")[:20]
    return render(
        request,
        "members/import_index.html",
        {
            "error": error,
            "batches": batches,
            "max_mb": importing.MAX_UPLOAD_BYTES // (1024 * 1024),
            "max_rows": importing.MAX_ROWS,
            "roots": scope_roots(request.user, Perm.VIEW_MEMBERS),
            "can_unmask": has_perm_anywhere(request.user, Perm.UNMASK_ID),
        },
        status=400 if error else 200,
    )


@login_required
@require_GET
def template(request):
    _require_import(request)
    stream = io.BytesIO()
    build_template(stream)
    stream.seek(0)
    return FileResponse(
        stream, as_attachment=True, filename="党员花名册导入模板.xlsx", content_type=XLSX
    )


def _previously_applied(batch: ImportBatch):
    return (
        ImportBatch.objects.filter(
            created_by=batch.created_by, sha256=batch.sha256, status=ImportBatch.Status.APPLIED
        )
        .exclude(pk=batch.pk)
        .defer("content")
        .first()
    )


@login_required
def detail(request, pk: int):
    batch = _own_batch(request, pk)
    preview = batch.preview or {}
    return render(
        request,
        "members/import_detail.html",
        {
            "batch": batch,
            "preview": preview,
            "running": batch.status in RUNNING and not import_batches.stalled(batch),
            "can_confirm": batch.status == ImportBatch.Status.CHECKED
            and bool(preview.get("digest")),
            "can_retry": (
                batch.status == ImportBatch.Status.FAILED or import_batches.stalled(batch)
            )
            and bool(preview.get("digest")),
            "errors_omitted": max(
                preview.get("error_count", 0) - len(preview.get("errors", [])), 0
            ),
            "new_omitted": max(batch.new_count - len(preview.get("new", [])), 0),
            "updates_omitted": max(batch.update_count - len(preview.get("updates", [])), 0),
            "applied_before": _previously_applied(batch)
            if batch.status != ImportBatch.Status.APPLIED
            else None,
        },
    )


@login_required
def progress(request, pk: int):
    batch = _own_batch(request, pk)
    response = render(request, "members/import_progress.html", {"batch": batch})
    if batch.status not in RUNNING and request.headers.get("HX-Request"):
        response["HX-Refresh"] = "true"  # done: reload the page to show the result
    return response


@login_required
@require_POST
def confirm(request, pk: int):
    batch = _own_batch(request, pk)
    valid_only = request.POST.get("valid_rows_only") in ("1", "on", "true")
    try:
        batch, queued = import_batches.confirm(batch, request.user, valid_only)
    except importing.ImportRefused as refused:
        batch.refresh_from_db(fields=["message"])
        if refused.message != batch.message:  # the page shows the batch's own message
            messages.error(request, refused.message)
        return redirect(batch)
    if queued:
        messages.info(request, _("正在后台导入，完成后本页会自动刷新。"))
    return redirect(batch)


@login_required
@require_GET
def export(request):
    """The roster, filtered as on the roster page, as .xlsx; ``unmasked=1`` for ID numbers."""
    if not has_perm_anywhere(request.user, Perm.VIEW_MEMBERS):
        raise PermissionDenied(_("您无权导出党员名册。"))
    _form, data, anchor = roster_filters(request)
    members = filter_roster(visible_members(request), data, anchor, timezone.localdate())
    members = members.order_by("organization__path", "name", "id")
    unmasked = request.GET.get("unmasked") in ("1", "on", "true")
    description = anchor.name if anchor is not None else _("本人权限范围内的全部党组织")
    result = exporting.export_roster(
        request.user, members, unmasked=unmasked, description=description
    )
    filename = f"党员花名册-{timezone.localdate():%Y%m%d}.xlsx"
    return FileResponse(result.file, as_attachment=True, filename=filename, content_type=XLSX)
