"""The layout of the roster workbook (党员花名册): its columns, the blank template, and writing it.

One layout serves the downloadable template, the export and the import, so an exported sheet
(with ID numbers in clear) imports back unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from .choices import ETHNICITIES, Category, Education, Gender, Membership, Occupation, Standing

ROSTER_SHEET = "党员花名册"
INSTRUCTIONS_SHEET = "填写说明"
CODES_SHEET = "代码表"
# The sample number of GB 11643 itself: no one holds it. The template's example row carries it,
# and the import skips a row with this number, so an example left in the sheet does no harm.
EXAMPLE_ID_NUMBER = "11010519491231002X"
# Data validations (dropdowns) cover this many rows below the header.
VALIDATION_ROWS = 200_000
# Text beginning with one of these would be taken as a formula by a spreadsheet (CSV/formula
# injection): the export puts an apostrophe before it, and the import takes that apostrophe off.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
DATE_FORMAT = "yyyy-mm-dd"


@dataclass(frozen=True)
class Column:
    header: str
    field: str
    kind: str  # "text", "choice", "date", "id_number", "organization"
    required: bool = False  # the column must be present and every row must fill it
    choices: tuple[tuple[str, str], ...] = ()  # (code, Chinese label)
    max_length: int | None = None
    width: int = 12
    aliases: tuple[str, ...] = ()
    note: str = ""

    @property
    def labels(self) -> list[str]:
        return [label for _code, label in self.choices]


def _choices(text_choices) -> tuple[tuple[str, str], ...]:
    return tuple((value, str(label)) for value, label in text_choices.choices)


COLUMNS: tuple[Column, ...] = (
    Column("姓名", "name", "text", required=True, max_length=60, width=10),
    Column("性别", "gender", "choice", choices=_choices(Gender), width=6,
           note="可不填，按身份证号确定；填写时须与身份证号一致"),
    Column("民族", "ethnicity", "choice", required=True,
           choices=tuple((e, e) for e in ETHNICITIES), width=8),
    Column("公民身份号码", "id_number", "id_number", required=True, width=21,
           aliases=("身份证号", "身份证号码", "公民身份证号码"),
           note="18位，末位校验码须正确；请以文本格式填写，以免被表格软件改成科学计数法"),
    Column("出生日期", "birth_date", "date", width=12,
           note="可不填，按身份证号确定；填写时须与身份证号一致"),
    Column("学历", "education", "choice", required=True, choices=_choices(Education), width=12),
    Column("工作岗位", "occupation", "choice", required=True, choices=_choices(Occupation),
           width=16),
    Column("工作单位及职务", "work_unit", "text", max_length=120, width=24,
           aliases=("工作单位",)),
    Column("联系电话", "phone", "text", max_length=20, width=14, aliases=("手机号码", "手机号")),
    Column("家庭住址", "address", "text", max_length=200, width=28),
    Column("入党日期", "joined_on", "date", required=True, width=12,
           note="入党时须年满十八周岁"),
    Column("转正日期", "full_member_on", "date", width=12,
           note="不得早于入党日期；预备党员不填"),
    Column("党员类别", "membership", "choice", choices=_choices(Membership), width=10,
           note="不填时新党员按正式党员登记，已有党员保持不变"),
    Column("党籍状态", "standing", "choice", choices=_choices(Standing), width=10,
           note="不填时新党员按正常登记，已有党员保持不变"),
    Column("管理类别", "category", "choice", choices=_choices(Category), width=16,
           aliases=("区域化管理类别",),
           note="不填时新党员按居民党员登记，已有党员保持不变"),
    Column("所在党组织", "organization", "organization", required=True, width=26,
           aliases=("所在党支部", "党组织"),
           note="填写党组织全称（或组织代码），须在您的管理范围内；"
           "已登记的党员调整所在党组织请办理组织关系转接"),
    Column("外出流向", "floating_destination", "text", max_length=120, width=18,
           note="党籍状态为流动党员时必填"),
)  # fmt: skip
COLUMN_BY_FIELD = {column.field: column for column in COLUMNS}
HEADERS = [column.header for column in COLUMNS]


def example_row() -> list:
    return [
        "张三（示例）",
        "女",
        "汉族",
        EXAMPLE_ID_NUMBER,
        date(1949, 12, 31),
        str(Education.BACHELOR.label),
        str(Occupation.ENTERPRISE_STAFF.label),
        "某某公司 工程师",
        "13800000000",
        "某某市某某区某某路1号",
        date(1975, 7, 1),
        date(1976, 7, 1),
        str(Membership.FULL.label),
        str(Standing.NORMAL.label),
        str(Category.IN_SERVICE.label),
        "某某党支部",
        "",
    ]


INSTRUCTIONS = [
    "党员花名册导入说明",
    "",
    "1. 在“党员花名册”工作表中每行填写一名党员，第1行为表头，请勿修改表头文字。",
    "2. 第2行为示例（身份证号为国家标准中的示例号码），导入时自动忽略，可删除也可保留。",
    "3. 带下拉箭头的列请从下拉列表中选择；日期可填写为日期格式，或文字 YYYY-MM-DD、"
    "YYYY/MM/DD、YYYY.MM.DD。",
    "4. 按公民身份号码匹配已登记的党员：已登记的党员按表中内容更新，未登记的新增。"
    "再次导入同一文件不会产生重复记录。",
    "5. 已有党员的选填列（如联系电话）留空表示清空该项；删除整列则保持原值不变。",
    "6. 上传后系统先逐行检查并列出错误（行号、列名、原因）和将要进行的变更，确认后才写入。"
    "存在错误时，可选择“仅导入无误的行”。",
    "7. 单元格中的公式不会被计算，只读取文件中保存的计算结果；没有计算结果的公式单元格视为错误。",
    "8. 以 = + - @ 开头的文字在导出时前面加了单引号（'），以防被表格软件当作公式；"
    "导入时自动去掉这个单引号。",
    "9. 文件须为 .xlsx 格式；大小、行数有上限，超过时请分批导入。",
    "",
    "各列说明：",
]


def _header_style():
    return (
        Font(bold=True, color="FFFFFF"),
        PatternFill("solid", fgColor="C8102E"),
        Alignment(horizontal="center", vertical="center", wrap_text=True),
    )


def header_row(sheet, titles: list[str]) -> None:
    """Append the column titles of a write-only sheet in the house style (white on red)."""
    font, fill, alignment = _header_style()
    cells = []
    for text in titles:
        cell = WriteOnlyCell(sheet, text)
        cell.font, cell.fill, cell.alignment = font, fill, alignment
        cells.append(cell)
    sheet.append(cells)


def _codes_sheet(workbook: Workbook) -> dict[str, str]:
    """A hidden sheet with one column per coded column; returns field → range reference."""
    sheet = workbook.create_sheet(CODES_SHEET)
    coded = [column for column in COLUMNS if column.kind == "choice"]
    longest = max(len(column.choices) for column in coded)
    rows = [[column.header for column in coded]]
    for i in range(longest):
        rows.append([column.labels[i] if i < len(column.labels) else None for column in coded])
    for row in rows:
        sheet.append(row)
    sheet.sheet_state = "hidden"
    refs = {}
    for index, column in enumerate(coded, start=1):
        letter = get_column_letter(index)
        refs[column.field] = f"'{CODES_SHEET}'!${letter}$2:${letter}${len(column.choices) + 1}"
    return refs


def _validations(refs: dict[str, str]) -> list[DataValidation]:
    validations = []
    for index, column in enumerate(COLUMNS, start=1):
        if column.field not in refs:
            continue
        letter = get_column_letter(index)
        validation = DataValidation(
            type="list",
            formula1=refs[column.field],
            allow_blank=True,
            showErrorMessage=True,
            errorTitle="无效的值",
            error=f"请从下拉列表中选择{column.header}。",
        )
        validation.add(f"{letter}2:{letter}{VALIDATION_ROWS + 1}")
        validations.append(validation)
    return validations


def _instructions(workbook: Workbook, write_only: bool, extra: list[str] = ()) -> None:
    sheet = workbook.create_sheet(INSTRUCTIONS_SHEET)
    sheet.column_dimensions["A"].width = 18
    sheet.column_dimensions["B"].width = 8
    sheet.column_dimensions["C"].width = 90
    lines = [INSTRUCTIONS[0], *extra, *INSTRUCTIONS[1:]]
    title = WriteOnlyCell(sheet, lines[0]) if write_only else lines[0]
    if write_only:
        title.font = Font(bold=True, size=14)
    sheet.append([title])
    for line in lines[1:]:
        sheet.append([line])
    sheet.append(["列名", "必填", "说明"])
    for column in COLUMNS:
        note = column.note
        if column.kind == "choice" and len(column.choices) <= 10:
            note = "；".join(filter(None, ["可选值：" + "、".join(column.labels), note]))
        elif column.kind == "choice":
            note = "；".join(filter(None, ["从下拉列表中选择", note]))
        elif column.kind == "date":
            note = "；".join(filter(None, ["日期", note]))
        elif column.max_length:
            note = "；".join(filter(None, [f"不超过{column.max_length}个字", note]))
        sheet.append([column.header, "是" if column.required else "", note])
    if not write_only:
        sheet["A1"].font = Font(bold=True, size=14)


def new_workbook(write_only: bool = False, instructions: list[str] = ()):
    """A roster workbook with its header, dropdowns, instructions and code lists, no rows yet.

    Returns (workbook, roster sheet). With ``write_only`` rows are streamed by :func:`write_row`.
    """
    workbook = Workbook(write_only=write_only)
    if write_only:
        roster = workbook.create_sheet(ROSTER_SHEET)
    else:
        roster = workbook.active
        roster.title = ROSTER_SHEET
    for index, column in enumerate(COLUMNS, start=1):
        roster.column_dimensions[get_column_letter(index)].width = column.width
    roster.freeze_panes = "A2"
    font, fill, alignment = _header_style()
    header = []
    for text in HEADERS:
        cell = WriteOnlyCell(roster, text) if write_only else None
        if cell is not None:
            cell.font, cell.fill, cell.alignment = font, fill, alignment
        header.append(cell or text)
    roster.append(header)
    if not write_only:
        for cell in roster[1]:
            cell.font, cell.fill, cell.alignment = font, fill, alignment
    _instructions(workbook, write_only, list(instructions))
    refs = _codes_sheet(workbook)
    for validation in _validations(refs):
        roster.data_validations.append(validation)
    return workbook, roster


def neutralize(value: str) -> str:
    """Text that a spreadsheet would read as a formula gets a leading apostrophe."""
    if value and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def write_row(sheet, values: list) -> None:
    """Append one row of cell values: dates as dates, text never as a formula."""
    cells = []
    for value in values:
        if isinstance(value, date):
            cell = WriteOnlyCell(sheet, value)
            cell.number_format = DATE_FORMAT
        elif isinstance(value, str):
            cell = WriteOnlyCell(sheet, neutralize(value))
            cell.data_type = "s"
        else:
            cell = WriteOnlyCell(sheet, value)
        cells.append(cell)
    sheet.append(cells)


def build_template(stream) -> None:
    """The blank template (header, dropdowns, one example row, instructions) into ``stream``."""
    workbook, roster = new_workbook()
    roster.append(example_row())
    grey = Font(italic=True, color="808080")
    for index, cell in enumerate(roster[2], start=1):
        cell.font = grey
        if COLUMNS[index - 1].kind == "date":
            cell.number_format = DATE_FORMAT
    # The ID number column is text, so that 18 digits typed in are not turned into a number.
    id_letter = get_column_letter(HEADERS.index("公民身份号码") + 1)
    for row in range(2, 1002):
        roster[f"{id_letter}{row}"].number_format = "@"
    workbook.active = 0
    workbook.save(stream)
