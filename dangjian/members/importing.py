"""Importing the roster (党员花名册) from an .xlsx workbook: check into a preview, then apply.

The flow, callable from a view, a task or an API:

* :func:`inspect_upload` refuses what must not be opened (not an .xlsx, too large, a zip bomb,
  too many rows) before a batch is stored;
* :func:`check_batch` reads the stored workbook and writes the preview (every row's errors with
  row, column and message; the members to create; the updates, field by field) without touching
  the roster;
* :func:`apply_batch` re-checks every row against the roster as it is now and writes it all in
  ONE transaction: a process killed halfway leaves nothing, and running it again gives the same
  result. If the roster changed since the check (the re-check differs from the preview), nothing
  is written and the batch goes back to the user with a fresh preview.

Memory stays bounded whatever the size: openpyxl in read-only mode, rows taken in chunks,
existing members fetched per chunk by ``id_hash``, writes by ``bulk_create``/``bulk_update``.
Formulas are never evaluated: cells are read with ``data_only=True`` (the value the spreadsheet
saved), and a formula cell without a saved value is an error for that cell. XML is parsed with
defusedxml (openpyxl uses it when it is installed, and so does the formula scan here).
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import NamedTuple

from defusedxml.ElementTree import fromstring as safe_fromstring
from defusedxml.ElementTree import iterparse as safe_iterparse
from django.core.exceptions import PermissionDenied
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections, transaction
from django.db.models import Q
from django.utils import timezone
from openpyxl import load_workbook
from openpyxl.cell.cell import ERROR_CODES
from openpyxl.utils import column_index_from_string
from openpyxl.utils.datetime import from_excel

from dangjian.accounts.roles import Perm
from dangjian.accounts.scope import has_perm_anywhere, scope_paths
from dangjian.audit.context import current_ip
from dangjian.audit.models import AuditAction, AuditEvent
from dangjian.organizations.models import Organization

from . import idnumber
from .choices import Category, Membership, Standing
from .models import ImportBatch, Member
from .services import check_record, member_snapshot
from .template_xlsx import (
    COLUMN_BY_FIELD,
    COLUMNS,
    EXAMPLE_ID_NUMBER,
    FORMULA_PREFIXES,
    ROSTER_SHEET,
    Column,
)

logger = logging.getLogger(__name__)

# --- Limits -------------------------------------------------------------------------------
# The largest upload accepted. A 200,000-row roster saved by Excel is about 15-18 MB.
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
# Data rows per file; larger rosters are imported in several files.
MAX_ROWS = 200_000
# The whole archive, uncompressed. A 200,000-row sheet is ~180 MB of XML; a zip bomb is more.
MAX_UNCOMPRESSED_BYTES = 300 * 1024 * 1024
# Uncompressed/compressed size of any archive member over RATIO_MIN_BYTES. Sheet XML compresses
# 5-15 times; a zip bomb hundreds or thousands of times.
MAX_COMPRESSION_RATIO = 100
RATIO_MIN_BYTES = 1024 * 1024
# An .xlsx has a dozen or so parts; thousands of members is not a workbook.
MAX_ARCHIVE_MEMBERS = 1_000
# Files with more rows are checked and applied by a background task (manage.py db_worker).
INLINE_ROWS = 2_000
# Rows handled (and written) together.
CHUNK_ROWS = 1_000
# What the preview keeps to show: every count is exact, the lists stop here.
PREVIEW_ITEMS = 1_000
MAX_STORED_ERRORS = 10_000

# Fields an import may change on a member already on the roster (not the ID number, which is
# what matches the row to the member, nor the organization, which a transfer changes).
UPDATABLE = [c.field for c in COLUMNS if c.field not in ("id_number", "organization")]
# Coded fields that keep the record's value when left blank (new members get the default).
DEFAULTS = {
    "membership": Membership.FULL.value,
    "standing": Standing.NORMAL.value,
    "category": Category.RESIDENT.value,
}
DERIVED = ("gender", "birth_date")  # from the ID number when left blank
XLSX_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
ROW_RE = re.compile(rb"<(?:\w+:)?row[\s>]")
FORMULA_RE = re.compile(rb"<(?:\w+:)?f[\s>/]")
DATE_RE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")


class ImportRefused(Exception):
    """A file, batch or confirmation refused, with the Chinese message to show."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class RosterChanged(ImportRefused):
    """The roster changed between the check and the apply; a new preview was stored."""


# --- The upload ---------------------------------------------------------------------------


def _mb(size: int) -> str:
    return f"{size / 1024 / 1024:.0f} MB"


def inspect_upload(filename: str, content: bytes) -> int | None:
    """Refuse a file that must not be opened; return the number of data rows if the file says.

    Everything here looks at the zip directory and a few small XML parts only: nothing is
    decompressed in full before the sizes are known to be reasonable.
    """
    name = (filename or "").lower()
    if name.endswith(".xls"):
        raise ImportRefused(
            "不支持旧版 Excel（.xls）文件，"
            "请在 Excel 或 WPS 中另存为“Excel 工作簿（.xlsx）”后再上传。"
        )
    if not name.endswith(".xlsx"):
        raise ImportRefused("只能导入 Excel 工作簿（.xlsx）文件，请使用下载的模板填写。")
    if not content:
        raise ImportRefused("上传的文件是空的。")
    if len(content) > MAX_UPLOAD_BYTES:
        raise ImportRefused(
            f"文件大小超过 {_mb(MAX_UPLOAD_BYTES)} 的上限，请分成几个文件分批导入。"
        )
    if not content.startswith(b"PK\x03\x04"):
        if content.startswith(b"\xd0\xcf\x11\xe0"):
            raise ImportRefused(
                "该文件是旧版 Excel（.xls）或加密的工作簿，请取消密码并另存为 .xlsx 后再上传。"
            )
        raise ImportRefused("该文件不是有效的 Excel 工作簿（.xlsx），可能只是改了扩展名。")
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError):
        raise ImportRefused("该文件已损坏或不是有效的 Excel 工作簿（.xlsx）。") from None
    if len(members) > MAX_ARCHIVE_MEMBERS:
        raise ImportRefused("该文件的结构异常（包含的部件过多），不是正常的 Excel 工作簿。")
    total = sum(member.file_size for member in members)
    if total > MAX_UNCOMPRESSED_BYTES:
        raise ImportRefused(
            f"该文件解压后超过 {_mb(MAX_UNCOMPRESSED_BYTES)} 的上限（可能是“压缩炸弹”），"
            "已拒绝。请分批导入。"
        )
    for member in members:
        if member.flag_bits & 0x1:
            raise ImportRefused("该文件已加密，请取消密码后再上传。")
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > RATIO_MIN_BYTES and ratio > MAX_COMPRESSION_RATIO:
            raise ImportRefused(
                "该文件的压缩比异常（可能是“压缩炸弹”），已拒绝。请用 Excel 重新保存后再上传。"
            )
    names = {member.filename for member in members}
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise ImportRefused("该文件不是有效的 Excel 工作簿（.xlsx），可能只是改了扩展名。")
    rows = _declared_rows(archive)
    if rows is not None and rows > MAX_ROWS:
        raise ImportRefused(
            f"文件有 {rows} 行数据，超过每次 {MAX_ROWS} 行的上限，请分成几个文件分批导入。"
        )
    return rows


def _sheet_path(archive: zipfile.ZipFile) -> str | None:
    """The part holding the roster sheet: the one named 党员花名册, else the first sheet."""
    try:
        workbook = safe_fromstring(archive.read("xl/workbook.xml"))
        rels = safe_fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    except Exception:  # any unreadable part: no estimate, openpyxl will say more
        return None
    targets = {
        rel.get("Id"): rel.get("Target", "") for rel in rels.iter(f"{{{PKG_REL_NS}}}Relationship")
    }
    sheets = [
        (sheet.get("name"), targets.get(sheet.get(f"{{{REL_NS}}}id"), ""))
        for sheet in workbook.iter(f"{{{XLSX_NS}}}sheet")
    ]
    if not sheets:
        return None
    target = next((t for n, t in sheets if n == ROSTER_SHEET), sheets[0][1])
    target = target.lstrip("/")
    return target if target.startswith("xl/") else f"xl/{target}"


def _declared_rows(archive: zipfile.ZipFile) -> int | None:
    """Rows of the roster sheet below the header, counted in its XML (never trusting the
    <dimension> a file may get wrong); None if the sheet cannot be found."""
    path = _sheet_path(archive)
    if path is None:
        return None
    rows = 0
    tail = b""
    try:
        with archive.open(path) as stream:
            while chunk := stream.read(1 << 20):
                buffer = tail + chunk
                rows += sum(1 for m in ROW_RE.finditer(buffer) if m.end() > len(tail))
                tail = buffer[-16:]
    except (KeyError, zipfile.BadZipFile, OSError, RuntimeError, EOFError, zlib.error):
        return None
    return max(rows - 1, 0)


# --- Reading the workbook -----------------------------------------------------------------


class FormulaWithoutValue:
    """A cell holding a formula whose result the file does not carry."""


FORMULA_WITHOUT_VALUE = FormulaWithoutValue()


def _normalize_header(value) -> str:
    return re.sub(r"[\s*＊:：]", "", str(value or ""))


HEADER_LOOKUP = {
    _normalize_header(name): column
    for column in COLUMNS
    for name in (column.header, *column.aliases)
}


def _formula_cells_without_value(content: bytes, path: str | None) -> set[tuple[int, int]]:
    """(row, column) of every formula cell whose saved result is missing."""
    if path is None:
        return set()
    archive = zipfile.ZipFile(io.BytesIO(content))
    with archive.open(path) as stream:
        tail = b""
        while chunk := stream.read(1 << 20):
            if FORMULA_RE.search(tail + chunk):
                break
            tail = chunk[-32:]
        else:
            return set()
    found: set[tuple[int, int]] = set()
    c_tag, f_tag, v_tag = f"{{{XLSX_NS}}}c", f"{{{XLSX_NS}}}f", f"{{{XLSX_NS}}}v"
    row_tag = f"{{{XLSX_NS}}}row"
    with archive.open(path) as stream:
        row = 0
        column = 0
        for event, element in safe_iterparse(stream, events=("start", "end")):
            if event == "start":
                if element.tag == row_tag:
                    row = int(element.get("r") or row + 1)
                    column = 0
                continue
            if element.tag == c_tag:
                ref = element.get("r")
                if ref:
                    column = column_index_from_string(ref.rstrip("0123456789"))
                else:
                    column += 1
                if element.find(f_tag) is not None and not element.findtext(v_tag):
                    found.add((row, column))
            elif element.tag == row_tag:
                element.clear()
    return found


class RawRow(NamedTuple):
    number: int  # the row number in the sheet, as the user sees it
    values: dict  # column → cell value


class RosterFile:
    """The roster sheet of a stored workbook: its header and its rows, read lazily."""

    def __init__(self, content: bytes):
        try:
            self.workbook = load_workbook(
                io.BytesIO(content), read_only=True, data_only=True, keep_links=False
            )
        except Exception as error:  # openpyxl raises many kinds
            logger.info("unreadable workbook: %r", error)
            raise ImportRefused(
                "无法读取该 Excel 文件，请用 Excel 或 WPS 重新保存后再上传。"
            ) from None
        names = self.workbook.sheetnames
        self.sheet = self.workbook[ROSTER_SHEET if ROSTER_SHEET in names else names[0]]
        # A wrong <dimension> would make openpyxl stop early: read every row there is.
        self.sheet.reset_dimensions()
        self.formula_cells = _formula_cells_without_value(
            content, getattr(self.sheet, "_worksheet_path", None)
        )
        self.header_row, self.columns, self.unknown = self._header()
        missing = [c.header for c in COLUMNS if c.required and c not in self.columns.values()]
        if missing:
            raise ImportRefused(
                "表头缺少必填列：" + "、".join(missing) + "。请使用下载的模板，不要修改表头。"
            )

    def close(self):
        self.workbook.close()

    def _header(self):
        for number, values in enumerate(self.sheet.iter_rows(values_only=True, max_row=5), 1):
            names = [_normalize_header(v) for v in values]
            known = {i: HEADER_LOOKUP[n] for i, n in enumerate(names) if n in HEADER_LOOKUP}
            if len(known) >= 2:
                seen: dict[Column, int] = {}
                for index, column in known.items():
                    if column in seen:
                        raise ImportRefused(f"表头中“{column.header}”列出现了两次。")
                    seen[column] = index
                unknown = [
                    str(values[i]).strip() for i, n in enumerate(names) if n and i not in known
                ]
                return number, known, unknown
        raise ImportRefused("没有找到表头（姓名、公民身份号码等），请使用下载的模板填写。")

    def rows(self) -> Iterator[RawRow]:
        """The data rows below the header; blank rows and the template's example skipped."""
        id_index = next(i for i, c in self.columns.items() if c.field == "id_number")
        start = self.header_row + 1
        for number, values in enumerate(
            self.sheet.iter_rows(min_row=start, values_only=True), start
        ):
            cells = {}
            blank = True
            for index, column in self.columns.items():
                value = values[index] if index < len(values) else None
                if isinstance(value, str) and not value.strip():
                    value = None
                if value is None and (number, index + 1) in self.formula_cells:
                    value = FORMULA_WITHOUT_VALUE
                if value is not None:
                    blank = False
                cells[column] = value
            if blank:
                continue
            raw_id = values[id_index] if id_index < len(values) else None
            if isinstance(raw_id, str) and idnumber.normalize(raw_id) == EXAMPLE_ID_NUMBER:
                continue
            yield RawRow(number, cells)


# --- Cell values --------------------------------------------------------------------------


class CellError(Exception):
    pass


def _unquote(text: str) -> str:
    """Take off the apostrophe the export puts before formula-like text."""
    if text.startswith("'") and text[1:].startswith(FORMULA_PREFIXES):
        return text[1:]
    return text


def _as_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, FormulaWithoutValue):
        raise CellError("该单元格是公式且文件中没有计算结果，请改为直接填写内容。")
    if isinstance(value, str):
        if value in ERROR_CODES:
            raise CellError(f"单元格为错误值 {value}，请改为直接填写内容。")
        return _unquote(value).strip()
    if isinstance(value, bool):
        raise CellError("应填写文字，不是逻辑值。")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _as_date(value) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if float(value).is_integer() and 19000101 <= value <= 21001231:
            value = str(int(value))
        elif 1 <= value < 2958466:
            return from_excel(value).date()
        else:
            raise CellError("日期格式不正确，应为 YYYY-MM-DD。")
    text = _as_text(value)
    if not text:
        return None
    match = DATE_RE.match(text) or re.match(r"^(\d{4})(\d{2})(\d{2})$", text)
    if not match:
        raise CellError("日期格式不正确，应为 YYYY-MM-DD（如 2001-07-01）。")
    try:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        raise CellError("日期不存在，请核对。") from None


def _choice_lookup(column: Column) -> dict[str, str]:
    lookup = {}
    for code, label in column.choices:
        lookup[code] = code
        lookup[label] = code
        short = re.split(r"[（(]", label)[0]
        lookup.setdefault(short, code)
        if column.field == "ethnicity" and label.endswith("族"):
            lookup.setdefault(label[:-1], code)
    return lookup


CHOICE_LOOKUPS = {c.field: _choice_lookup(c) for c in COLUMNS if c.kind == "choice"}


def _as_choice(column: Column, value) -> str | None:
    text = _as_text(value)
    if not text:
        return None
    code = CHOICE_LOOKUPS[column.field].get(text.replace(" ", ""))
    if code is None:
        raise CellError(f"“{text}”不是有效的{column.header}，请从下拉列表中选择。")
    return code


def _as_id_number(value) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise CellError(
            "身份证号被存成了数字（末几位可能已丢失），请将该列设为文本格式后重新填写。"
        )
    return idnumber.normalize(_as_text(value))


def parse_row(raw: RawRow) -> tuple[dict, list[tuple[str, str]]]:
    """The row's values by field (only the columns present) and its cell errors."""
    data: dict = {}
    errors: list[tuple[str, str]] = []
    for column, value in raw.values.items():
        try:
            if column.kind == "date":
                parsed = _as_date(value)
            elif column.kind == "choice":
                parsed = _as_choice(column, value)
            elif column.kind == "id_number":
                parsed = _as_id_number(value)
            else:
                parsed = _as_text(value)
                if column.max_length and len(parsed) > column.max_length:
                    raise CellError(f"不能超过{column.max_length}个字（现为{len(parsed)}个字）。")
        except CellError as error:
            errors.append((column.header, str(error)))
            data[column.field] = None
            continue
        data[column.field] = parsed
    return data, errors


# --- Planning: what each row would do -----------------------------------------------------


class OrgRef(NamedTuple):
    id: int
    name: str
    code: str
    path: str
    active: bool


@dataclass
class RowPlan:
    row: int
    kind: str  # "new", "update", "unchanged" or "error"
    errors: list[tuple[str, str]] = field(default_factory=list)
    data: dict = field(default_factory=dict)
    member: Member | None = None
    changes: list[tuple[str, object, object]] = field(default_factory=list)
    organization: OrgRef | None = None

    def key(self) -> bytes:
        """What the preview promised for this row; the apply must find exactly the same."""
        if self.kind == "error":
            detail = sorted(self.errors)
        elif self.kind == "new":
            detail = sorted((k, str(v)) for k, v in self.data.items())
        else:
            detail = [(f, str(old), str(new)) for f, old, new in self.changes]
        member = [self.member.pk, self.member.version] if self.member is not None else None
        org = self.organization.id if self.organization else None
        return json.dumps([self.row, self.kind, member, org, detail], ensure_ascii=False).encode()


class Planner:
    """Decides each row's fate against the roster as it is, for one user's scope."""

    def __init__(self, user, duplicates: dict[int, list[int]], today: date):
        self.user = user
        self.duplicates = duplicates
        self.today = today
        self.scope = scope_paths(user, Perm.MANAGE_MEMBERS)
        self.orgs: dict[str, list[OrgRef]] = {}

    def in_scope(self, path: str) -> bool:
        return self.scope is None or any(path.startswith(p) for p in self.scope)

    def _load_orgs(self, values: set[str]) -> None:
        wanted = [v for v in values if v and v not in self.orgs]
        for start in range(0, len(wanted), 500):
            part = wanted[start : start + 500]
            for v in part:
                self.orgs[v] = []
            rows = Organization.objects.filter(Q(name__in=part) | Q(code__in=part)).values_list(
                "id", "name", "code", "path", "dissolved_on"
            )
            for pk, name, code, path, dissolved in rows:
                ref = OrgRef(pk, name, code, path, dissolved is None)
                if name in self.orgs:
                    self.orgs[name].append(ref)
                if code and code in self.orgs and code != name:
                    self.orgs[code].append(ref)

    def resolve(self, value: str) -> tuple[OrgRef | None, str | None]:
        matches = self.orgs.get(value, [])
        mine = [o for o in matches if self.in_scope(o.path)]
        active = [o for o in mine if o.active]
        by_code = [o for o in active if o.code == value]
        if len(by_code) == 1:
            return by_code[0], None
        by_name = [o for o in active if o.name == value]
        if len(by_name) == 1:
            return by_name[0], None
        if len(by_name) > 1 or len(by_code) > 1:
            n = max(len(by_name), len(by_code))
            return (
                None,
                f"组织名称不唯一：您的管理范围内有 {n} 个名为“{value}”的党组织，请改填组织代码。",
            )
        if mine:
            return None, f"党组织“{value}”已撤销。"
        if matches:
            return None, f"党组织“{value}”不在您的管理范围内，不能导入到该组织。"
        return None, f"未找到党组织“{value}”，请填写党组织全称或组织代码。"

    def plan_chunk(self, rows: list[RawRow], lock: bool = False) -> list[RowPlan]:
        parsed = [(raw.number, *parse_row(raw)) for raw in rows]
        self._load_orgs({data.get("organization") or "" for _n, data, _e in parsed})
        hashes = {
            idnumber.lookup_hash(data["id_number"])
            for _n, data, _e in parsed
            if data.get("id_number")
        }
        existing = Member.objects.filter(id_hash__in=hashes).select_related("organization")
        if lock:
            existing = existing.select_for_update(of=("self",))
        by_hash = {member.id_hash: member for member in existing}
        return [self.plan(n, data, errors, by_hash) for n, data, errors in parsed]

    def plan(self, number: int, data: dict, errors: list, by_hash: dict) -> RowPlan:
        errors = list(errors)
        bad_columns = {column for column, _m in errors}

        def add(column_field: str, message: str) -> None:
            header = COLUMN_BY_FIELD[column_field].header
            if header not in bad_columns:
                errors.append((header, message))
                bad_columns.add(header)

        for column in COLUMNS:
            if column.required and column.field in data and data[column.field] in (None, ""):
                add(column.field, "必填项，不能为空。")
        if number in self.duplicates:
            rows = "、".join(str(r) for r in self.duplicates[number])
            add("id_number", f"身份证号在文件中重复（第 {rows} 行），同一党员只能有一行。")
        organization = None
        if data.get("organization"):
            organization, message = self.resolve(data["organization"])
            if message:
                add("organization", message)
        id_number = data.get("id_number") or ""
        member = by_hash.get(idnumber.lookup_hash(id_number)) if id_number else None
        plan = RowPlan(number, "error", organization=organization, member=member)
        if member is not None:
            if not self.in_scope(member.organization.path):
                add("id_number", "该党员属于您权限范围外的组织，不能通过导入修改。")
                plan.member = None
            elif organization is not None and member.organization_id != organization.id:
                add(
                    "organization",
                    f"该党员现属“{member.organization.name}”。调整所在党组织请办理组织关系转接。",
                )
            record = {f: getattr(member, f) for f in UPDATABLE}
            record["id_number"] = member.id_number
            for key, value in data.items():
                if key in ("id_number", "organization"):
                    continue
                if value is None and (key in DEFAULTS or key in DERIVED):
                    continue
                record[key] = value
        else:
            record = dict(data)
            try:
                parsed_id = idnumber.parse(id_number, self.today)
            except Exception:  # check_record reports it
                parsed_id = None
            if parsed_id is not None:
                if record.get("gender") is None:
                    record["gender"] = parsed_id.gender
                if record.get("birth_date") is None:
                    record["birth_date"] = parsed_id.birth_date
            for key, default in DEFAULTS.items():
                if record.get(key) is None:
                    record[key] = default
            for column in COLUMNS:
                if column.kind == "text" and record.get(column.field) is None:
                    record[column.field] = ""
        for field_name, messages in check_record(record, self.today).items():
            add(field_name if field_name in COLUMN_BY_FIELD else "id_number", messages[0])
        if errors:
            plan.errors = sorted(errors, key=lambda e: HEADER_ORDER.get(e[0], 99))
            return plan
        if member is None:
            plan.kind = "new"
            record["id_number"] = id_number
            plan.data = {k: record[k] for k in [*UPDATABLE, "id_number"] if k in record}
            return plan
        plan.changes = [
            (f, getattr(member, f), record[f]) for f in UPDATABLE if getattr(member, f) != record[f]
        ]
        plan.kind = "update" if plan.changes else "unchanged"
        return plan


HEADER_ORDER = {column.header: i for i, column in enumerate(COLUMNS)}


# --- Showing values in the preview --------------------------------------------------------


def display(field_name: str, value) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, date):
        return value.isoformat()
    column = COLUMN_BY_FIELD.get(field_name)
    if column is not None and column.kind == "choice":
        return dict(column.choices).get(value, str(value))
    if field_name == "phone":
        return idnumber.mask_phone(value)
    if field_name == "id_number":
        return idnumber.mask(value)
    return str(value)


# --- Walking the file ---------------------------------------------------------------------


@dataclass
class Outcome:
    total: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    error_rows: int = 0
    error_count: int = 0
    errors: list = field(default_factory=list)
    new_rows: list = field(default_factory=list)
    update_rows: list = field(default_factory=list)
    digest: object = field(default_factory=hashlib.sha256)

    def add(self, plan: RowPlan) -> None:
        self.total += 1
        self.digest.update(plan.key())
        self.digest.update(b"\n")
        if plan.kind == "error":
            self.error_rows += 1
            for column, message in plan.errors:
                self.error_count += 1
                if len(self.errors) < MAX_STORED_ERRORS:
                    self.errors.append({"row": plan.row, "column": column, "message": message})
        elif plan.kind == "new":
            self.new += 1
            if len(self.new_rows) < PREVIEW_ITEMS:
                self.new_rows.append(
                    {
                        "row": plan.row,
                        "name": plan.data.get("name", ""),
                        "id_number": idnumber.mask(plan.data.get("id_number", "")),
                        "organization": plan.organization.name if plan.organization else "",
                    }
                )
        elif plan.kind == "update":
            self.updated += 1
            if len(self.update_rows) < PREVIEW_ITEMS:
                self.update_rows.append(
                    {
                        "row": plan.row,
                        "member": plan.member.pk,
                        "name": plan.member.name,
                        "id_number": plan.member.masked_id_number,
                        "changes": [
                            {
                                "column": COLUMN_BY_FIELD[f].header,
                                "old": display(f, old),
                                "new": display(f, new),
                            }
                            for f, old, new in plan.changes
                        ],
                    }
                )
        else:
            self.unchanged += 1

    def preview(self, notices: list[str], duplicates: list[list[int]]) -> dict:
        return {
            "digest": self.digest.hexdigest(),
            "checked_at": timezone.now().isoformat(),
            "errors": self.errors,
            "error_count": self.error_count,
            "new": self.new_rows,
            "updates": self.update_rows,
            "notices": notices,
            "duplicates": duplicates,
        }


def _chunks(rows: Iterator[RawRow], size: int) -> Iterator[list[RawRow]]:
    chunk: list[RawRow] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _scan(roster: RosterFile) -> tuple[int, list[list[int]]]:
    """First pass: count the rows (within the limit) and find ID numbers given twice."""
    id_column = COLUMN_BY_FIELD["id_number"]
    first: dict[str, int] = {}
    groups: dict[str, list[int]] = {}
    total = 0
    for raw in roster.rows():
        total += 1
        if total > MAX_ROWS:
            raise ImportRefused(f"文件超过每次 {MAX_ROWS} 行的上限，请分成几个文件分批导入。")
        value = raw.values.get(id_column)
        if not isinstance(value, str):
            continue
        number = idnumber.normalize(_unquote(value))
        if not number:
            continue
        if number in first:
            groups.setdefault(number, [first[number]]).append(raw.number)
        else:
            first[number] = raw.number
    return total, list(groups.values())


def _progress(batch_id: int, processed: int) -> None:
    # updated_at is the heartbeat that tells a live import from one whose process died.
    ImportBatch.objects.filter(pk=batch_id).update(
        processed_rows=processed, updated_at=timezone.now()
    )


def _notices(roster: RosterFile) -> list[str]:
    notices = []
    if roster.unknown:
        notices.append("以下列不在模板中，已忽略：" + "、".join(roster.unknown))
    absent = [c.header for c in COLUMNS if not c.required and c not in roster.columns.values()]
    if absent:
        notices.append("文件中没有以下列，已登记党员的这些信息保持不变：" + "、".join(absent))
    return notices


# --- Check --------------------------------------------------------------------------------


def check_batch(batch: ImportBatch) -> ImportBatch:
    """Read the batch's workbook and store the preview; the roster is not touched."""
    batch.status = ImportBatch.Status.CHECKING
    batch.processed_rows = 0
    batch.message = ""
    batch.save(update_fields=["status", "processed_rows", "message"])
    try:
        roster = RosterFile(bytes(batch.content))
        try:
            total, duplicates = _scan(roster)
            batch.total_rows = total
            batch.save(update_fields=["total_rows"])
            planner = Planner(
                batch.created_by,
                {row: group for group in duplicates for row in group},
                timezone.localdate(),
            )
            outcome = Outcome()
            for chunk in _chunks(roster.rows(), CHUNK_ROWS):
                for plan in planner.plan_chunk(chunk):
                    outcome.add(plan)
                _progress(batch.pk, outcome.total)
            notices = _notices(roster)
        finally:
            roster.close()
    except ImportRefused as refused:
        return _fail(batch, refused.message)
    except Exception:
        logger.exception("checking import batch %s failed", batch.pk)
        return _fail(batch, "检查文件时发生错误，未导入任何数据。请用 Excel 重新保存文件后再试。")
    _store(batch, outcome, notices, duplicates)
    batch.status = ImportBatch.Status.CHECKED
    batch.save(update_fields=STORED_FIELDS)
    return batch


STORED_FIELDS = [
    "status",
    "message",
    "preview",
    "total_rows",
    "processed_rows",
    "error_rows",
    "new_count",
    "update_count",
    "unchanged_count",
]


def _store(batch: ImportBatch, outcome: Outcome, notices, duplicates) -> None:
    batch.preview = outcome.preview(notices, duplicates)
    batch.total_rows = outcome.total
    batch.processed_rows = outcome.total
    batch.error_rows = outcome.error_rows
    batch.new_count = outcome.new
    batch.update_count = outcome.updated
    batch.unchanged_count = outcome.unchanged


def _fail(batch: ImportBatch, message: str) -> ImportBatch:
    batch.status = ImportBatch.Status.FAILED
    batch.message = message
    batch.preview = {}
    batch.save(update_fields=["status", "message", "preview"])
    return batch


# --- Apply --------------------------------------------------------------------------------


class _SideProgress:
    """Progress written from inside the apply transaction, through a second connection.

    On PostgreSQL the second connection commits at once, so the progress bar moves while the
    import's own transaction is still open. SQLite has one writer at a time (the import holds
    it), so there the progress is written when the transaction commits.
    """

    def __init__(self, batch_id: int):
        self.batch_id = batch_id
        self.connection = None
        if connection.vendor != "sqlite":
            try:
                self.connection = connections.create_connection(DEFAULT_DB_ALIAS)
            except Exception:  # progress is a nicety, never a failure
                self.connection = None

    def __call__(self, processed: int) -> None:
        if self.connection is None:
            return
        try:
            with self.connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {ImportBatch._meta.db_table} "
                    "SET processed_rows = %s, updated_at = %s WHERE id = %s",
                    [processed, timezone.now(), self.batch_id],
                )
        except DatabaseError:
            self.close()

    def close(self) -> None:
        if self.connection is not None:
            try:
                self.connection.close()
            finally:
                self.connection = None


def _member_from(plan: RowPlan) -> Member:
    member = Member(organization_id=plan.organization.id, **plan.data)
    member.id_number = idnumber.normalize(member.id_number)
    member.id_hash = idnumber.lookup_hash(member.id_number)
    member.version = 1
    return member


def _event(action, actor, member: Member, org_path: str, reason: str, **states) -> AuditEvent:
    return AuditEvent(
        actor=actor,
        actor_name=actor.get_username(),
        ip_address=current_ip.get(),
        action=action,
        object_type=member._meta.label_lower,
        object_id=str(member.pk),
        object_repr=str(member)[:200],
        organization_path=org_path,
        reason=reason[:300],
        **states,
    )


def _write(plans: list[RowPlan], actor, reason: str) -> tuple[int, int]:
    """Create and update the chunk's members, with their audit events."""
    now = timezone.now()
    creating = [p for p in plans if p.kind == "new"]
    updating = [p for p in plans if p.kind == "update"]
    events = []
    if creating:
        members = Member.objects.bulk_create(
            [_member_from(p) for p in creating], batch_size=CHUNK_ROWS
        )
        for plan, member in zip(creating, members, strict=True):
            events.append(
                _event(
                    AuditAction.CREATE,
                    actor,
                    member,
                    plan.organization.path,
                    reason,
                    after=member_snapshot(member),
                )
            )
    if updating:
        changed_fields: set[str] = set()
        members = []
        for plan in updating:
            member = plan.member
            before = member_snapshot(member)
            for field_name, _old, new in plan.changes:
                setattr(member, field_name, new)
                changed_fields.add(field_name)
            member.version += 1
            member.updated_at = now
            members.append(member)
            events.append(
                _event(
                    AuditAction.UPDATE,
                    actor,
                    member,
                    member.organization.path,
                    reason,
                    before=before,
                    after=member_snapshot(member),
                )
            )
        Member.objects.bulk_update(
            members, [*sorted(changed_fields), "version", "updated_at"], batch_size=500
        )
    AuditEvent.objects.bulk_create(events, batch_size=CHUNK_ROWS)
    return len(creating), len(updating)


APPLYABLE = (ImportBatch.Status.CHECKED, ImportBatch.Status.APPLYING, ImportBatch.Status.FAILED)


def apply_batch(
    batch: ImportBatch,
    actor,
    *,
    valid_rows_only: bool | None = None,
    on_chunk: Callable[[int], None] | None = None,
) -> ImportBatch:
    """Write the checked batch to the roster in one transaction; ImportRefused if it may not.

    ``valid_rows_only`` (default: the batch's own choice) skips the rows with errors; without it
    a batch with errors is refused. ``on_chunk(rows_done)`` is called after each chunk is
    written, inside the transaction (tests use it to kill the process mid-way).
    """
    batch.refresh_from_db()
    Status = ImportBatch.Status
    if batch.created_by_id != actor.pk or not has_perm_anywhere(actor, Perm.MANAGE_MEMBERS):
        raise PermissionDenied("您无权导入该批次。")
    if batch.status == Status.APPLIED:
        raise ImportRefused("该批次已经导入，不能重复导入。")
    if batch.status not in APPLYABLE or not batch.preview.get("digest"):
        raise ImportRefused("该文件尚未完成检查，不能导入。")
    valid_only = batch.valid_rows_only if valid_rows_only is None else valid_rows_only
    if batch.error_rows and not valid_only:
        message = (
            f"文件中有 {batch.error_rows} 行存在错误，未导入任何数据。"
            "请修改后重新上传，或勾选“仅导入无误的行”后确认。"
        )
        _back_to_checked(batch, message)
        raise ImportRefused(message)
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=Status.APPLYING,
        valid_rows_only=valid_only,
        processed_rows=0,
        message="",
        updated_at=timezone.now(),
    )
    reason = f"导入党员花名册（{batch.filename}，批次 {batch.pk}）"[:300]
    side = _SideProgress(batch.pk)
    try:
        with transaction.atomic():
            roster = RosterFile(bytes(batch.content))
            try:
                duplicates = batch.preview.get("duplicates") or []
                planner = Planner(
                    actor,
                    {row: group for group in duplicates for row in group},
                    timezone.localdate(),
                )
                outcome = Outcome()
                created = updated = 0
                for chunk in _chunks(roster.rows(), CHUNK_ROWS):
                    plans = planner.plan_chunk(chunk, lock=True)
                    for plan in plans:
                        outcome.add(plan)
                    c, u = _write(plans, actor, reason)
                    created, updated = created + c, updated + u
                    side(outcome.total)
                    if on_chunk is not None:
                        on_chunk(outcome.total)
                notices = _notices(roster)
            finally:
                roster.close()
            if outcome.digest.hexdigest() != batch.preview["digest"]:
                raise RosterChanged(
                    "自检查以来名册已发生变化（或有人修改了相关党员），本次未导入任何数据。"
                    "系统已按最新数据重新检查，请核对下面的结果后再确认。"
                )
            done = (
                ImportBatch.objects.filter(pk=batch.pk)
                .exclude(status=Status.APPLIED)
                .update(
                    status=Status.APPLIED,
                    applied_at=timezone.now(),
                    processed_rows=outcome.total,
                    new_count=created,
                    update_count=updated,
                    # The file holds ID numbers in clear: once applied it is no longer needed.
                    content=b"",
                    message=f"已新增 {created} 名党员，更新 {updated} 名党员。"
                    + (f"跳过有错误的 {outcome.error_rows} 行。" if outcome.error_rows else ""),
                )
            )
            if not done:
                raise ImportRefused("该批次已经导入，不能重复导入。")
    except RosterChanged as changed:
        batch.refresh_from_db()
        _store(batch, outcome, notices, duplicates)
        batch.status = Status.CHECKED
        batch.message = changed.message
        batch.save(update_fields=STORED_FIELDS)
        raise
    except ImportRefused as refused:
        ImportBatch.objects.filter(pk=batch.pk, status=Status.APPLYING).update(
            status=Status.FAILED, message=refused.message
        )
        raise
    except Exception as error:
        batch.refresh_from_db()
        if batch.status == Status.APPLIED:
            raise ImportRefused("该批次已经导入，不能重复导入。") from error
        logger.exception("applying import batch %s failed", batch.pk)
        message = "导入时发生错误，未写入任何数据，可以稍后重试。"
        ImportBatch.objects.filter(pk=batch.pk, status=Status.APPLYING).update(
            status=Status.FAILED, message=message
        )
        raise ImportRefused(message) from error
    finally:
        side.close()
    batch.refresh_from_db()
    return batch


def _back_to_checked(batch: ImportBatch, message: str) -> None:
    ImportBatch.objects.filter(pk=batch.pk, status=ImportBatch.Status.APPLYING).update(
        status=ImportBatch.Status.CHECKED, message=message
    )
    batch.refresh_from_db()
