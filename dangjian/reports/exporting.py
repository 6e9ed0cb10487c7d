"""A statistics section as an Excel workbook: one sheet per table, as on the page (the
organization's own row, each child, the total; a share column after each counted column
that has one), with the scope, period and the date of the figures on top."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from dangjian.members.template_xlsx import header_row, write_row

from .tables import Table

INVALID_SHEET_CHARS = str.maketrans({c: "" for c in "[]:*?/\\"})


def _bold(sheet, text: str, size: int = 12):
    cell = WriteOnlyCell(sheet, text)
    cell.font = Font(bold=True, size=size)
    return cell


def _number(value):
    # Money and rates stay exact decimals in the sheet (openpyxl writes Decimal as a number).
    return value if isinstance(value, int | Decimal) or value is None else str(value)


def _values(table: Table, row, label: str) -> list:
    values = [label]
    for column in table.columns:
        values.append(_number(row.get(column.key)))
        if table.shows_share(column):
            values.append(table.share(row, column))
    return values


def section_workbook(title: str, scope: str, period_label: str, today: date, tables: list[Table]):
    workbook = Workbook(write_only=True)
    used = set()
    for table in tables:
        name = str(table.title).translate(INVALID_SHEET_CHARS)[:31] or table.key
        while name in used:
            name = name[:28] + str(len(used))
        used.add(name)
        sheet = workbook.create_sheet(name)
        widths = [28] + [14] * (len(table.columns) * 2)
        for index, width in enumerate(widths, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = width
        sheet.append([_bold(sheet, f"{scope}　{table.title}", 14)])
        write_row(
            sheet,
            [
                _("%(title)s；统计期：%(period)s；数据截至：%(day)s")
                % {"title": title, "period": period_label, "day": today.isoformat()}
            ],
        )
        headers = [_("党组织")]
        for column in table.columns:
            headers.append(column.label)
            if table.shows_share(column):
                headers.append(_("%(label)s占比（%%）") % {"label": column.label})
        header_row(sheet, headers)
        for row in table.rows:
            label = row.label + (_("（本级）") if row.is_self else "")
            write_row(sheet, _values(table, row, label))
        total = _values(table, table.total, _("合计"))
        sheet.append([_bold(sheet, total[0], 11), *total[1:]])
        if table.note:
            write_row(sheet, [_("说明：") + str(table.note)])
    stream = io.BytesIO()
    workbook.save(stream)
    return stream.getvalue()
