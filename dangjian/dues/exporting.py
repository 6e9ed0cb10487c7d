"""The monthly collection sheet (党费收缴登记表) as .xlsx.

One line per member owing dues that month in the organization's subtree, in tree and name
order, then a totals row. Rows are streamed (openpyxl write-only) to a temporary file, so
memory does not grow with the subtree; text a spreadsheet would take for a formula gets a
leading apostrophe, as in the roster export.
"""

from __future__ import annotations

import tempfile
from datetime import date
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from dangjian.members.template_xlsx import DATE_FORMAT, neutralize
from dangjian.organizations.models import Organization

from .models import PaymentKind
from .rules import DUES_CITATION
from .services import Collection
from .statistics import SheetRow, sheet_members, sheet_row, table_for_organization

CHUNK = 2_000
MONEY_FORMAT = "#,##0.00"
# (header, width); the sheet's columns in order
COLUMNS = (
    ("序号", 6),
    ("姓名", 10),
    ("所在党组织", 26),
    ("交纳类别", 16),
    ("月收入基数（元）", 14),
    ("交纳比例", 9),
    ("应交金额（元）", 12),
    ("实交金额（元）", 12),
    ("交纳方式", 10),
    ("交纳日期", 12),
    ("登记人", 10),
    ("备注", 28),
)


def sheet_title(organization: Organization, month: date) -> str:
    return _("%(org)s %(month)s党费收缴登记表") % {
        "org": organization.name,
        "month": f"{month:%Y年%m月}",
    }


def _cell(sheet, value, *, number_format: str | None = None, font=None):
    if isinstance(value, str):
        cell = WriteOnlyCell(sheet, neutralize(value))
        cell.data_type = "s"
    else:
        cell = WriteOnlyCell(sheet, value)
    if isinstance(value, date):
        cell.number_format = DATE_FORMAT
    elif number_format:
        cell.number_format = number_format
    if font is not None:
        cell.font = font
    return cell


def row_note(row: SheetRow) -> str:
    notes = []
    if row.base is None:
        notes.append(_("未确定交纳基数"))
    elif row.base.reduction:
        notes.append(row.base.get_reduction_display())
    if row.payment is not None:
        if row.payment.approved_reason:
            notes.append(_("超期补交：%(r)s") % {"r": row.payment.approved_reason})
        if row.payment.note:
            notes.append(row.payment.note)
    return "；".join(notes)


def row_values(index: int, row: SheetRow) -> list:
    base, payment = row.base, row.payment
    if base is None:
        category, income = "", None
    else:
        category = row.category_short
        income = row.income if row.income is not None else base.fixed_amount
    return [
        index,
        row.member.name,
        row.organization_name,
        category,
        income,
        row.percent_label,
        row.due,
        payment.amount_paid if payment else None,
        str(PaymentKind(payment.kind).label) if payment else _("未交"),
        payment.paid_on if payment else None,
        row.recorder,
        row_note(row),
    ]


def export_sheet(actor, organization: Organization, month: date, total: Collection):
    """The sheet of ``organization``'s subtree for ``month`` in a temporary file (at its
    start). ``total`` is the subtree's :class:`Collection` for the totals row."""
    table = table_for_organization(organization)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("党费收缴登记表"))
    for index, (_header, width) in enumerate(COLUMNS):
        sheet.column_dimensions[get_column_letter(index + 1)].width = width
    sheet.freeze_panes = "A4"
    title = _cell(sheet, sheet_title(organization, month), font=Font(bold=True, size=14))
    sheet.append([title])
    now = timezone.localtime()
    sheet.append(
        [
            _("导出时间：%(t)s　导出人：%(u)s　依据：%(c)s")
            % {
                "t": f"{now:%Y-%m-%d %H:%M}",
                "u": actor.get_full_name(),
                "c": DUES_CITATION,
            }
        ]
    )
    font = Font(bold=True, color="FFFFFF")
    fill = PatternFill("solid", fgColor="C8102E")
    alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    header = []
    for text, _width in COLUMNS:
        cell = WriteOnlyCell(sheet, text)
        cell.font, cell.fill, cell.alignment = font, fill, alignment
        header.append(cell)
    sheet.append(header)
    members = sheet_members(Organization.objects.within(organization), month)
    count = 0
    for member in members.iterator(chunk_size=CHUNK):
        count += 1
        values = row_values(count, sheet_row(member, table, month))
        sheet.append(
            [
                _cell(sheet, v, number_format=MONEY_FORMAT if i in (4, 6, 7) else None)
                for i, v in enumerate(values)
            ]
        )
    bold = Font(bold=True)
    totals = [
        _("合计"),
        _("应交%(n)d人") % {"n": total.members_owing},
        _("已交%(p)d人，未交%(u)d人") % {"p": total.members_paid, "u": total.members_unpaid},
        _("未定基数%(n)d人") % {"n": total.members_without_base}
        if total.members_without_base
        else "",
        None,
        _("收缴率"),
        total.due,
        total.paid,
        f"{(total.rate or Decimal(0)) * 100:.2f}%" if total.rate is not None else "—",
        None,
        None,
        "",
    ]
    sheet.append(
        [
            _cell(sheet, v, number_format=MONEY_FORMAT if i in (6, 7) else None, font=bold)
            for i, v in enumerate(totals)
        ]
    )
    stream = tempfile.TemporaryFile()
    workbook.save(stream)
    stream.seek(0)
    return stream
