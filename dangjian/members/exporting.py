"""Exporting the roster to .xlsx in the template's layout.

ID numbers (and phone numbers) are masked unless the user may see them in clear AND asked for
it; every member exported in clear is recorded in the audit log as a read of sensitive data.
Text that a spreadsheet would take for a formula is written with a leading apostrophe. Rows
are streamed (openpyxl write-only) to a temporary file, so memory does not grow with the roster.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass

from django.utils import timezone

from dangjian.audit.context import current_ip
from dangjian.audit.models import AuditAction, AuditEvent

from . import idnumber, services
from .models import Member
from .template_xlsx import COLUMNS, new_workbook, write_row

CHUNK = 2_000
UNMASKED_REASON = "导出党员花名册（含完整身份证号）"


@dataclass
class Export:
    file: object  # an open temporary file, at its start
    rows: int
    unmasked: int


def member_values(member: Member, unmasked: bool) -> list:
    values = []
    for column in COLUMNS:
        if column.field == "organization":
            values.append(member.organization.name)
        elif column.field == "id_number":
            values.append(member.id_number if unmasked else idnumber.mask(member.id_number))
        elif column.field == "phone":
            values.append(member.phone if unmasked else idnumber.mask_phone(member.phone))
        elif column.kind == "choice":
            value = getattr(member, column.field)
            values.append(dict(column.choices).get(value, value or ""))
        else:
            value = getattr(member, column.field)
            values.append("" if value is None else value)
    return values


def export_roster(actor, members, *, unmasked: bool, description: str = "") -> Export:
    """Write ``members`` (an already scoped and filtered queryset) to a temporary .xlsx."""
    now = timezone.localtime()
    notes = [f"导出时间：{now:%Y-%m-%d %H:%M}，导出人：{actor.get_username()}"]
    if description:
        notes.append(f"导出范围：{description}")
    if unmasked:
        notes.append("本表含完整身份证号和联系电话，属于个人敏感信息，请妥善保管，用后及时删除。")
    else:
        notes.append("本表身份证号和联系电话已脱敏显示，不能直接用于导入。")
    notes.append("")
    workbook, sheet = new_workbook(write_only=True, instructions=notes)
    rows = revealed = 0
    events: list[AuditEvent] = []
    ip = current_ip.get()
    for member in members.select_related("organization").iterator(chunk_size=CHUNK):
        clear = unmasked and services.may_unmask(actor, member)
        write_row(sheet, member_values(member, clear))
        rows += 1
        if clear:
            revealed += 1
            events.append(
                AuditEvent(
                    actor=actor,
                    actor_name=actor.get_username(),
                    ip_address=ip,
                    action=AuditAction.READ,
                    object_type=member._meta.label_lower,
                    object_id=str(member.pk),
                    object_repr=str(member)[:200],
                    organization_path=member.organization.path,
                    reason=UNMASKED_REASON,
                )
            )
            if len(events) >= CHUNK:
                AuditEvent.objects.bulk_create(events)
                events = []
    if events:
        AuditEvent.objects.bulk_create(events)
    stream = tempfile.TemporaryFile()
    workbook.save(stream)
    stream.seek(0)
    return Export(stream, rows, revealed)
