"""The monthly collection sheet (党费收缴登记表) as .xlsx.

One line per member owing dues that month in the organization's subtree, in tree and name
order, then a totals row. Rows are streamed (openpyxl write-only) to a temporary file, so
memory does not grow with the subtree; text a spreadsheet would take for a formula gets a
leading apostrophe, as in the roster export.

The lines are read as plain values (no Member rows: their encrypted ID number is not on the
sheet) and written as plain values, but for the three amounts, which need their number
format: a cell each, made once and given each line's value (a write-only sheet writes a row
out as it is appended, so the same cells serve every line).
"""

from __future__ import annotations

import tempfile
from datetime import date
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from dangjian.members.template_xlsx import DATE_FORMAT, header_row, neutralize
from dangjian.organizations.models import Organization

from .models import PaymentKind, Reduction
from .rates import INCOME_CATEGORIES
from .rules import DUES_CITATION
from .services import Collection, due_from_columns
from .statistics import (
    BASE_COLUMNS,
    SHORT_CATEGORY,
    percent_label,
    percent_of_income,
    sheet_members,
    table_for_organization,
)

CHUNK = 2_000
MONEY_FORMAT = "#,##0.00"
MONEY_COLUMNS = (4, 6, 7)  # income, due, paid (0-based)
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


def plain(value):
    """A line's value as openpyxl takes it: text a spreadsheet would read as a formula
    neutralized, an empty text no cell at all."""
    if isinstance(value, str):
        return neutralize(value) or None
    return value


# What a line of the sheet reads, in order (see :func:`statistics.sheet_members`).
LINE_COLUMNS = (
    "name",
    "org_name",
    *(f"b_{column}" for column in BASE_COLUMNS),
    "p_id",
    "p_due",
    "p_paid",
    "p_kind",
    "p_paid_on",
    "p_note",
    "p_reason",
    "p_recorder_name",
    "p_recorder_username",
)


class Lines:
    """The sheet's lines as lists of cell values, from rows of :data:`LINE_COLUMNS`. Labels
    are translated once, not for every line."""

    def __init__(self, table):
        self.table = table
        self.categories = {key: str(label) for key, label in SHORT_CATEGORY.items()}
        self.kinds = {kind: str(kind.label) for kind in PaymentKind}
        self.reductions = {value: str(label) for value, label in Reduction.choices if value}
        self.unpaid = _("未交")
        self.no_base = _("未确定交纳基数")
        self.late = _("超期补交：%(r)s")

    def values(self, index: int, row) -> list:
        (name, org_name, category, income, fixed, reduction, reduced,
         paid, p_due, p_paid, kind, paid_on, note, reason, recorder, username) = row  # fmt: skip
        notes = []
        if category is None:  # no base in force
            label = amount = due = percent = None
            notes.append(self.no_base)
        else:
            label = self.categories.get(category, "")
            if category in INCOME_CATEGORIES:
                amount = income if income is not None else fixed
                percent = percent_of_income(self.table, category, income)
            else:
                amount, percent = fixed, None
            due = due_from_columns(self.table, category, income, fixed, reduction, reduced)
            if reduction:
                notes.append(self.reductions.get(reduction, reduction))
        if paid is not None:
            due = p_due
            if reason:
                notes.append(self.late % {"r": reason})
            if note:
                notes.append(note)
        return [
            index,
            name,
            org_name,
            label or "",
            amount,
            percent_label(percent),
            due,
            p_paid if paid is not None else None,
            self.kinds[kind] if paid is not None else self.unpaid,
            paid_on if paid is not None else None,
            recorder or username or "",
            "；".join(notes),
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
    header_row(sheet, [text for text, _width in COLUMNS])
    rows = sheet_members(Organization.objects.within(organization), month).values_list(
        *LINE_COLUMNS
    )
    lines = Lines(table)
    money = [_cell(sheet, None, number_format=MONEY_FORMAT) for _column in MONEY_COLUMNS]
    for index, row in enumerate(rows.iterator(chunk_size=CHUNK), 1):
        values = lines.values(index, row)
        for cell, column in zip(money, MONEY_COLUMNS, strict=True):
            cell.value, values[column] = values[column], cell
        sheet.append([plain(value) for value in values])
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
