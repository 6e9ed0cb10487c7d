"""Roster import and export (党员花名册), through real requests with real .xlsx files.

Upload → preview (errors by row and column, changes field by field) → confirm in one
transaction; refusals of unsafe files; formulas never evaluated; masked, audited and
injection-safe export that imports back unchanged; scope; a SIGKILL in the middle of an apply;
the background path.
"""

from __future__ import annotations

import io
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import textwrap
import zipfile
from contextlib import closing
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django_tasks.signals import task_finished

from dangjian.accounts.roles import ROLE_PERMISSIONS, Perm, Role
from dangjian.audit.models import AuditAction, AuditEvent
from dangjian.members import importing, services
from dangjian.members.idnumber import check_character, mask
from dangjian.members.models import ImportBatch, Member
from dangjian.members.template_xlsx import (
    CODES_SHEET,
    EXAMPLE_ID_NUMBER,
    HEADERS,
    INSTRUCTIONS_SHEET,
    ROSTER_SHEET,
)

from .factories import UserFactory, make_org

BASE_DIR = Path(__file__).resolve().parent.parent
IMPORT_URL = "/members/import/"


def make_id(birth: date, seq: int = 11, region: str = "110105") -> str:
    """A valid ID number; ``seq`` odd for a man, even for a woman."""
    first17 = f"{region}{birth:%Y%m%d}{seq:03d}"
    return first17 + check_character(first17)


def wrong_check_character(number: str) -> str:
    return number[:17] + ("1" if number[17] != "1" else "2")


def row(organization: str, **values) -> list:
    """One roster row in the template's column order."""
    birth = values.pop("birth", date(1990, 1, 1))
    data = {
        "姓名": "王小明",
        "性别": "男",
        "民族": "汉族",
        "公民身份号码": make_id(birth),
        "出生日期": birth,
        "学历": "大学本科",
        "工作岗位": "工人",
        "工作单位及职务": "和平机械厂 技术员",
        "联系电话": "13800138000",
        "家庭住址": "和平路1号",
        "入党日期": date(2015, 7, 1),
        "转正日期": date(2016, 7, 1),
        "党员类别": "正式党员",
        "党籍状态": "正常",
        "管理类别": "在职党员（双管）",
        "所在党组织": organization,
        "外出流向": "",
    }
    for key, value in values.items():
        header = {"id": "公民身份号码"}.get(key, key)
        assert header in data, header
        data[header] = value
    return [data[h] for h in HEADERS]


def workbook_bytes(rows: list[list], headers: list[str] = HEADERS) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = ROSTER_SHEET
    sheet.append(headers)
    for values in rows:
        sheet.append(values)
    stream = io.BytesIO()
    workbook.save(stream)
    return stream.getvalue()


def upload(client, content: bytes, name: str = "花名册.xlsx"):
    return client.post(IMPORT_URL, {"file": SimpleUploadedFile(name, content)})


def uploaded_batch(client, content: bytes, name: str = "花名册.xlsx") -> ImportBatch:
    response = upload(client, content, name)
    assert response.status_code == 302, response.content.decode()[:2000]
    batch = ImportBatch.objects.latest("id")
    assert response["Location"] == reverse("members:import_detail", args=[batch.pk])
    return batch


def confirm(client, batch: ImportBatch, valid_rows_only: bool = False):
    data = {"valid_rows_only": "1"} if valid_rows_only else {}
    return client.post(reverse("members:import_confirm", args=[batch.pk]), data)


def errors_of(batch: ImportBatch) -> set[tuple[int, str, str]]:
    batch.refresh_from_db()
    return {(e["row"], e["column"], e["message"]) for e in batch.preview["errors"]}


def add_member(organization, birth: date = date(1985, 5, 5), seq: int = 22, **fields) -> Member:
    """A member put on the roster by the service the pages use; female unless ``seq`` is odd."""
    data = {
        "organization": organization,
        "name": "李红",
        "gender": "male" if seq % 2 else "female",
        "ethnicity": "汉族",
        "id_number": make_id(birth, seq),
        "birth_date": birth,
        "education": "bachelor",
        "occupation": "enterprise_staff",
        "work_unit": "和平社区居委会 主任",
        "phone": "13900139000",
        "address": "和平路2号",
        "joined_on": date(2010, 6, 1),
        "full_member_on": date(2011, 6, 1),
        "membership": "full",
        "standing": "normal",
        "category": "resident",
        "floating_destination": "",
    }
    data.update(fields)
    return services.create_member(UserFactory(is_superuser=True), data)


@pytest.fixture
def clerk_a(district, login):
    return login(Role.CLERK, district.branch_a)


# 1. The template.


def test_the_template_downloads_with_headers_dropdowns_example_and_instructions(clerk_a):
    response = clerk_a.get(reverse("members:import_template"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert workbook.sheetnames[:2] == [ROSTER_SHEET, INSTRUCTIONS_SHEET]
    sheet = workbook[ROSTER_SHEET]
    assert [c.value for c in sheet[1]] == HEADERS
    assert sheet.cell(2, HEADERS.index("公民身份号码") + 1).value == EXAMPLE_ID_NUMBER
    assert sheet.cell(2, 1).value.endswith("（示例）")

    lists = {}
    for validation in sheet.data_validations.dataValidation:
        assert validation.type == "list"
        column = HEADERS[openpyxl.utils.column_index_from_string(str(validation.sqref)[0]) - 1]
        lists[column] = validation.formula1
    assert set(lists) == {"性别", "民族", "学历", "工作岗位", "党员类别", "党籍状态", "管理类别"}
    codes = workbook[CODES_SHEET]
    assert codes.sheet_state == "hidden"
    education = [r[0].value for r in codes[lists["学历"].split("!")[1].replace("$", "")]]
    assert education == [
        "研究生",
        "大学本科",
        "大学专科",
        "中等专科",
        "高中",
        "初中及以下",
    ]
    instructions = "\n".join(
        str(c.value) for line in workbook[INSTRUCTIONS_SHEET].iter_rows() for c in line if c.value
    )
    assert "导入说明" in instructions and "公民身份号码" in instructions


def test_the_template_as_downloaded_imports_nothing(clerk_a):
    content = b"".join(clerk_a.get(reverse("members:import_template")).streaming_content)
    batch = uploaded_batch(clerk_a, content, "党员花名册导入模板.xlsx")
    assert batch.status == ImportBatch.Status.CHECKED
    assert (batch.total_rows, batch.new_count, batch.error_rows) == (0, 0, 0)


# 2. Preview with errors; confirm refused unless "valid rows only".


def test_mixed_file_reports_every_error_and_applies_only_when_asked(district, clerk_a):
    a = district.branch_a.name
    young = date(2000, 3, 3)
    dup = make_id(date(1980, 2, 2), 33)
    rows = [
        row(a, 姓名="甲"),  # 2: fine
        row(a, 姓名="乙", id=wrong_check_character(make_id(date(1990, 1, 1)))),  # 3: checksum
        row(a, 姓名="丙", 出生日期=date(1991, 1, 1)),  # 4: birth date ≠ ID
        row("不存在的党支部", 姓名="丁", birth=date(1992, 2, 2)),  # 5: unknown organization
        row(district.branch_b.name, 姓名="戊", birth=date(1993, 3, 3)),  # 6: outside scope
        row(a, 姓名="己", birth=date(1994, 4, 4), 转正日期=date(2014, 1, 1)),  # 7: before joining
        row(a, 姓名="庚", birth=young, 入党日期=date(2017, 1, 1), 转正日期=None),  # 8: under 18
        row(a, 姓名="辛", birth=date(1980, 2, 2), id=dup),  # 9: duplicate …
        row(a, 姓名="壬", birth=date(1980, 2, 2), id=dup),  # 10: … of this one
        row(a, 姓名="癸", birth=date(1995, 5, 5), 学历="博士后"),  # 11: unknown coded value
        row(a, 姓名="子", birth=date(1996, 6, 6), 入党日期="2019-13-45"),  # 12: bad date
        row(a, 姓名="", birth=date(1977, 7, 7)),  # 13: required column empty
        row(a, 姓名="丑", birth=date(1970, 8, 8), 入党日期="1995/07/01", 转正日期="1996.07.01"),
    ]
    rows[2][HEADERS.index("公民身份号码")] = make_id(date(1990, 1, 1), 13)
    batch = uploaded_batch(clerk_a, workbook_bytes(rows))

    assert batch.status == ImportBatch.Status.CHECKED
    assert errors_of(batch) == {
        (3, "公民身份号码", "身份证号校验位错误，请核对。"),
        (4, "出生日期", "出生日期与身份证号不一致（身份证号为 1990-01-01）。"),
        (5, "所在党组织", "未找到党组织“不存在的党支部”，请填写党组织全称或组织代码。"),
        (
            6,
            "所在党组织",
            f"党组织“{district.branch_b.name}”不在您的管理范围内，不能导入到该组织。",
        ),
        (7, "转正日期", "转正日期不能早于入党日期。"),
        (8, "入党日期", "入党时未满十八周岁（《中国共产党章程》第一条）。"),
        (9, "公民身份号码", "身份证号在文件中重复（第 9、10 行），同一党员只能有一行。"),
        (10, "公民身份号码", "身份证号在文件中重复（第 9、10 行），同一党员只能有一行。"),
        (11, "学历", "“博士后”不是有效的学历，请从下拉列表中选择。"),
        (12, "入党日期", "日期不存在，请核对。"),
        (13, "姓名", "必填项，不能为空。"),
    }
    assert (batch.total_rows, batch.error_rows, batch.new_count, batch.update_count) == (
        13,
        11,
        2,
        0,
    )
    page = clerk_a.get(batch.get_absolute_url()).content.decode()
    assert "身份证号校验位错误，请核对。" in page
    assert "仅导入无误的行" in page
    assert Member.objects.count() == 0  # the check changes nothing

    response = confirm(clerk_a, batch)
    assert response.status_code == 302
    assert Member.objects.count() == 0
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.CHECKED
    assert "仅导入无误的行" in clerk_a.get(batch.get_absolute_url()).content.decode()

    response = confirm(clerk_a, batch, valid_rows_only=True)
    assert response.status_code == 302
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.APPLIED
    assert batch.content == b""  # the file with clear ID numbers is not kept once applied
    assert set(Member.objects.values_list("name", flat=True)) == {"甲", "丑"}
    chou = Member.objects.get(name="丑")
    assert (chou.joined_on, chou.full_member_on) == (date(1995, 7, 1), date(1996, 7, 1))
    assert (chou.gender, chou.category, chou.version) == ("male", "in_service", 1)
    events = AuditEvent.objects.filter(action=AuditAction.CREATE, object_type="members.member")
    assert events.count() == 2
    event = events.get(object_id=str(chou.pk))
    assert event.actor == clerk_a.user
    assert event.after["id_number"] == mask(chou.id_number)
    assert event.organization_path == district.branch_a.path


def test_an_organization_name_given_twice_in_scope_must_be_a_code(district, committee_admin):
    twin = make_org(district.community, district.branch_a.name, code="A-002")
    batch = uploaded_batch(
        committee_admin,
        workbook_bytes(
            [row(district.branch_a.name), row("A-002", 姓名="乙", birth=date(1991, 1, 1))]
        ),
    )
    assert errors_of(batch) == {
        (
            2,
            "所在党组织",
            f"组织名称不唯一：您的管理范围内有 2 个名为“{district.branch_a.name}”的党组织，"
            "请改填组织代码。",
        )
    }
    confirm(committee_admin, batch, valid_rows_only=True)
    assert Member.objects.get().organization == twin


# 3. Re-import, updates.


def test_importing_the_same_file_twice_creates_no_duplicates(district, clerk_a):
    a = district.branch_a.name
    content = workbook_bytes(
        [
            row(a, 姓名="张一", birth=date(1981, 1, 1)),
            row(a, 姓名="张二", birth=date(1982, 2, 2), 党员类别="预备党员", 转正日期=None),
            row(
                a, 姓名="张三", birth=date(1983, 3, 3), 党籍状态="流动党员", 外出流向="广东省深圳市"
            ),
        ]
    )
    first = uploaded_batch(clerk_a, content)
    assert (first.new_count, first.update_count, first.error_rows) == (3, 0, 0)
    confirm(clerk_a, first)
    assert Member.objects.count() == 3

    second = uploaded_batch(clerk_a, content)
    assert (second.new_count, second.update_count, second.unchanged_count) == (0, 0, 3)
    assert "已于" in clerk_a.get(second.get_absolute_url()).content.decode()
    confirm(clerk_a, second)
    second.refresh_from_db()
    assert second.status == ImportBatch.Status.APPLIED
    assert Member.objects.count() == 3
    assert set(Member.objects.values_list("version", flat=True)) == {1}


def test_an_update_is_shown_field_by_field_and_applied(district, clerk_a):
    member = add_member(district.branch_a)
    birth = member.birth_date
    values = row(
        district.branch_a.name,
        姓名="李红",
        性别="女",
        id=member.id_number,
        birth=birth,
        学历="大学本科",
        工作岗位="企事业单位管理和专业技术人员",
        工作单位及职务="和平社区居委会 书记",
        联系电话="13900139111",
        家庭住址="和平路2号",
        入党日期=date(2010, 6, 1),
        转正日期=date(2011, 6, 1),
        管理类别="居民党员（直管）",
    )
    batch = uploaded_batch(clerk_a, workbook_bytes([values]))
    assert (batch.new_count, batch.update_count, batch.error_rows) == (0, 1, 0)
    [update] = batch.preview["updates"]
    assert update["member"] == member.pk
    assert update["changes"] == [
        {"column": "工作单位及职务", "old": "和平社区居委会 主任", "new": "和平社区居委会 书记"},
        {"column": "联系电话", "old": "139****9000", "new": "139****9111"},
    ]
    page = clerk_a.get(batch.get_absolute_url()).content.decode()
    assert "工作单位及职务：和平社区居委会 主任 → <b>和平社区居委会 书记</b>" in page

    confirm(clerk_a, batch)
    member.refresh_from_db()
    assert (member.work_unit, member.phone, member.version) == (
        "和平社区居委会 书记",
        "13900139111",
        2,
    )
    event = AuditEvent.objects.filter(action=AuditAction.UPDATE, object_id=str(member.pk)).get()
    assert event.before["work_unit"] == "和平社区居委会 主任"
    assert event.after["work_unit"] == "和平社区居委会 书记"
    assert event.after["phone"] == "139****9111"  # masked in the log, as elsewhere


def test_apply_refuses_when_the_roster_changed_since_the_check(district, clerk_a):
    member = add_member(district.branch_a)
    values = row(
        district.branch_a.name,
        姓名="李红",
        性别="女",
        id=member.id_number,
        birth=member.birth_date,
        工作单位及职务="新单位",
    )
    batch = uploaded_batch(clerk_a, workbook_bytes([values]))
    assert batch.update_count == 1
    services.update_member(clerk_a.user, member, {"address": "别处"}, member.version)

    response = confirm(clerk_a, batch)
    assert response.status_code == 302
    member.refresh_from_db()
    assert (member.work_unit, member.version) == ("和平社区居委会 主任", 2)
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.CHECKED
    assert "名册已发生变化" in batch.message
    assert "名册已发生变化" in clerk_a.get(batch.get_absolute_url()).content.decode()
    # The fresh preview shows the change just made would be undone; confirming again applies it.
    changed = {c["column"] for c in batch.preview["updates"][0]["changes"]}
    assert changed >= {"工作单位及职务", "家庭住址"}
    confirm(clerk_a, batch)
    member.refresh_from_db()
    assert (member.work_unit, member.version) == ("新单位", 3)


# 4. Files that must not be opened.


def test_a_zip_bomb_is_refused_before_it_is_opened(clerk_a):
    stream = io.BytesIO()
    with zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        with archive.open("xl/worksheets/sheet1.xml", "w") as member:
            for _ in range(64):
                member.write(b"<row>" + b"0" * (1024 * 1024))
    content = stream.getvalue()
    assert len(content) < 1024 * 1024  # 64 MB in under 1 MB
    response = upload(clerk_a, content, "bomb.xlsx")
    assert response.status_code == 400
    assert "压缩炸弹" in response.content.decode()
    assert not ImportBatch.objects.exists()


def test_an_archive_expanding_beyond_the_limit_is_refused(clerk_a, monkeypatch):
    monkeypatch.setattr(importing, "MAX_UNCOMPRESSED_BYTES", 200_000)
    stream = io.BytesIO()
    with zipfile.ZipFile(stream, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", os.urandom(300_000))
    response = upload(clerk_a, stream.getvalue(), "big.xlsx")
    assert response.status_code == 400
    assert "解压后超过" in response.content.decode()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "roster.csv",
            "姓名,公民身份号码\n张三,110105194912310021\n".encode(),
            "只能导入 Excel 工作簿",
        ),
        ("roster.xlsx", "姓名,公民身份号码\n张三\n".encode(), "不是有效的 Excel 工作簿"),
        ("roster.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "旧版 Excel"),
        ("roster.xlsx", b"PK\x03\x04broken", "已损坏"),
    ],
)
def test_files_that_are_not_xlsx_are_refused(clerk_a, name, content, message):
    response = upload(clerk_a, content, name)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ImportBatch.objects.exists()


def test_too_many_rows_and_too_large_files_are_refused(district, clerk_a, monkeypatch):
    monkeypatch.setattr(importing, "MAX_ROWS", 3)
    rows = [row(district.branch_a.name, birth=date(1980 + i, 1, 1)) for i in range(4)]
    response = upload(clerk_a, workbook_bytes(rows))
    assert response.status_code == 400
    assert "超过每次 3 行的上限" in response.content.decode()

    monkeypatch.setattr(importing, "MAX_UPLOAD_BYTES", 2_000)
    response = upload(clerk_a, workbook_bytes(rows[:1]))
    assert response.status_code == 400
    assert "文件大小超过" in response.content.decode()
    assert not ImportBatch.objects.exists()


def test_xml_is_parsed_with_defusedxml():
    assert openpyxl.xml.DEFUSEDXML is True


# 5. Formulas are read as their saved values, never evaluated.


def with_cached_value(content: bytes, cell: str, cached: str) -> bytes:
    """Give the formula in ``cell`` a saved result, as a spreadsheet program would."""
    source = zipfile.ZipFile(io.BytesIO(content))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                text = data.decode()
                pattern = rf'<c r="{cell}"([^>]*)><f>(.*?)</f><v\s*/?>(</v>)?'
                text, n = re.subn(pattern, rf'<c r="{cell}" t="str"><f>\2</f><v>{cached}</v>', text)
                assert n == 1, text[:2000]
                data = text.encode()
            target.writestr(info, data)
    return out.getvalue()


def test_formulas_are_read_as_saved_values_or_reported_never_evaluated(district, clerk_a):
    a = district.branch_a.name
    phone_column = openpyxl.utils.get_column_letter(HEADERS.index("联系电话") + 1)
    rows = [
        row(a, 姓名="甲", 联系电话="=1+1"),  # saved result below: 13700137000
        row(a, 姓名="乙", birth=date(1991, 1, 1), 工作单位及职务='=CONCAT("和平","机械厂")'),
    ]
    content = with_cached_value(workbook_bytes(rows), f"{phone_column}2", "13700137000")
    batch = uploaded_batch(clerk_a, content)
    assert errors_of(batch) == {
        (3, "工作单位及职务", "该单元格是公式且文件中没有计算结果，请改为直接填写内容。")
    }
    confirm(clerk_a, batch, valid_rows_only=True)
    assert Member.objects.get().phone == "13700137000"  # the saved value, not 2


# 6. Export.


def exported(client, query: str = "") -> openpyxl.Workbook:
    response = client.get(reverse("members:export") + query)
    assert response.status_code == 200, response.status_code
    assert "attachment" in response["Content-Disposition"]
    return openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))


def exported_rows(workbook) -> list[dict]:
    rows = list(workbook[ROSTER_SHEET].iter_rows(values_only=True))
    assert list(rows[0]) == HEADERS
    return [dict(zip(HEADERS, values, strict=True)) for values in rows[1:]]


def test_export_is_masked_by_default_and_unmasked_only_when_asked_and_audited(district, clerk_a):
    member = add_member(district.branch_a)
    add_member(district.branch_b, date(1970, 1, 1), 44, name="外支部")

    [record] = exported_rows(exported(clerk_a))
    assert record["姓名"] == "李红"  # and not the member of branch_b
    assert record["公民身份号码"] == mask(member.id_number)
    assert record["联系电话"] == "139****9000"
    assert not AuditEvent.objects.filter(action=AuditAction.READ).exists()

    [record] = exported_rows(exported(clerk_a, "?unmasked=1"))
    assert record["公民身份号码"] == member.id_number
    assert record["联系电话"] == "13900139000"
    event = AuditEvent.objects.get(action=AuditAction.READ)
    assert event.object_id == str(member.pk)
    assert event.actor == clerk_a.user
    assert "导出党员花名册" in event.reason


def test_unmasked_export_needs_the_unmask_permission(district, login, monkeypatch):
    member = add_member(district.branch_a)
    monkeypatch.setitem(
        ROLE_PERMISSIONS, Role.CLERK, ROLE_PERMISSIONS[Role.CLERK] - {Perm.UNMASK_ID}
    )
    client = login(Role.CLERK, district.branch_a)
    [record] = exported_rows(exported(client, "?unmasked=1"))
    assert record["公民身份号码"] == mask(member.id_number)
    assert not AuditEvent.objects.filter(action=AuditAction.READ).exists()


def test_export_neutralises_formula_injection(district, clerk_a):
    add_member(district.branch_a, work_unit='=HYPERLINK("http://evil.example","点击")')
    add_member(
        district.branch_a,
        date(1975, 1, 1),
        55,
        name="赵六",
        address="@SUM(1+1)",
        phone="+8613800138000",
    )
    workbook = exported(clerk_a, "?unmasked=1")
    sheet = workbook[ROSTER_SHEET]
    cells = {c.value: c for line in sheet.iter_rows(min_row=2) for c in line if c.value}
    cell = cells['\'=HYPERLINK("http://evil.example","点击")']
    assert cell.data_type == "s"
    assert "'@SUM(1+1)" in cells and "'+8613800138000" in cells
    assert not any(c.data_type == "f" for c in cells.values())


def test_an_unmasked_export_imports_back_to_the_same_data(district, clerk_a):
    add_member(district.branch_a, work_unit="=不是公式", phone="+8613900139000")
    add_member(
        district.group_a,
        date(1999, 9, 9),
        17,
        name="周七",
        membership="probationary",
        full_member_on=None,
        joined_on=date(2025, 6, 1),
        ethnicity="蒙古族",
        category="floating",
        standing="floating",
        floating_destination="广东省深圳市",
        phone="",
        address="",
    )
    content = b"".join(clerk_a.get(reverse("members:export") + "?unmasked=1").streaming_content)
    before = list(Member.objects.order_by("id").values())
    batch = uploaded_batch(clerk_a, content, "导出.xlsx")
    assert batch.preview["errors"] == []
    assert (batch.new_count, batch.update_count, batch.unchanged_count) == (0, 0, 2)
    confirm(clerk_a, batch)
    assert list(Member.objects.order_by("id").values()) == before


# 7. Scope.


def test_scope_of_import_export_and_batches(district, clerk_a, login):
    in_b = add_member(district.branch_b, date(1970, 1, 1), 44, name="外支部")
    in_a = add_member(district.branch_a)
    rows = [
        row(district.branch_b.name, 姓名="新人"),
        row(
            district.branch_a.name,
            姓名="外支部",
            性别="女",
            id=in_b.id_number,
            birth=in_b.birth_date,
        ),
        row(
            district.group_a.name,
            姓名="李红",
            性别="女",
            id=in_a.id_number,
            birth=in_a.birth_date,
        ),
    ]
    batch = uploaded_batch(clerk_a, workbook_bytes(rows))
    assert errors_of(batch) == {
        (
            2,
            "所在党组织",
            f"党组织“{district.branch_b.name}”不在您的管理范围内，不能导入到该组织。",
        ),
        (3, "公民身份号码", "该党员属于您权限范围外的组织，不能通过导入修改。"),
        (
            4,
            "所在党组织",
            f"该党员现属“{district.branch_a.name}”。调整所在党组织请办理组织关系转接。",
        ),
    }

    assert (
        clerk_a.get(reverse("members:export") + f"?org={district.branch_b.pk}").status_code == 404
    )

    other = login(Role.CLERK, district.branch_a)
    for name in ("members:import_detail", "members:import_progress"):
        assert other.get(reverse(name, args=[batch.pk])).status_code == 404
    assert other.post(reverse("members:import_confirm", args=[batch.pk])).status_code == 404

    member_only = login(Role.MEMBER, district.branch_a)
    assert member_only.get(IMPORT_URL).status_code == 403
    assert member_only.get(reverse("members:import_template")).status_code == 403
    assert member_only.get(reverse("members:export")).status_code == 403


# 8. A process killed in the middle of an apply leaves nothing behind.

KILL_SCRIPT = textwrap.dedent(
    """
    import json, os, sys, time
    sys.path.insert(0, os.environ["DANGJIAN_REPO"])
    os.environ["DJANGO_SETTINGS_MODULE"] = "dangjian.settings"
    import django
    django.setup()
    from django.core.management import call_command
    from dangjian.members import importing
    from dangjian.members.models import ImportBatch

    command = sys.argv[1]
    if command == "setup":
        from dangjian.accounts.models import RoleGrant, User
        from dangjian.organizations.models import Organization
        call_command("migrate", verbosity=0)
        root = Organization.objects.add_root(
            instance=Organization(name="中共测试区委员会", org_type="committee", sector="other")
        )
        branch = Organization.objects.add_child(
            root, instance=Organization(name="测试党支部", org_type="branch", sector="other")
        )
        user = User.objects.create_user("clerk", password="Zhibu#2026ok")
        RoleGrant.objects.create(user=user, organization=branch, role="clerk")
        with open(sys.argv[2], "rb") as f:
            content = f.read()
        batch = ImportBatch.objects.create(
            created_by=user, filename="kill.xlsx", content=content, sha256="x"
        )
        importing.check_batch(batch)
        print(json.dumps({"status": batch.status, "new": batch.new_count}), flush=True)
    else:
        importing.CHUNK_ROWS = 10
        batch = ImportBatch.objects.get()

        def pause(done):
            if command == "apply-and-hang":
                print("WRITTEN", done, flush=True)
                time.sleep(600)

        try:
            importing.apply_batch(batch, batch.created_by, on_chunk=pause)
        except importing.ImportRefused as refused:
            print("REFUSED", refused.message, flush=True)
        else:
            print("APPLIED", flush=True)
    """
)


def test_a_sigkill_during_apply_leaves_no_partial_rows_and_a_rerun_completes(tmp_path):
    names = [f"党员{i:02d}" for i in range(35)]
    rows = [
        row("测试党支部", 姓名=name, birth=date(1960 + i, 1 + i % 12, 1 + i % 28))
        for i, name in enumerate(names)
    ]
    (tmp_path / "kill.xlsx").write_bytes(workbook_bytes(rows))
    (tmp_path / "kill.py").write_text(KILL_SCRIPT)
    database = tmp_path / "kill.sqlite3"
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"SECRET_KEY", "DATABASE_URL", "FIELD_ENCRYPTION_KEY", "ID_HASH_KEY", "DEBUG"}
    }
    env.update(
        DANGJIAN_MODE="dev",
        DANGJIAN_VAR_DIR=str(tmp_path / "var"),
        DANGJIAN_REPO=str(BASE_DIR),
        DATABASE_URL=f"sqlite:///{database}",
    )

    def run(*args, check=True):
        result = subprocess.run(
            [sys.executable, str(tmp_path / "kill.py"), *args],
            cwd=BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0 or not check, result.stderr[-3000:]
        return result.stdout

    def state():
        with closing(sqlite3.connect(database)) as db:
            members = [n for (n,) in db.execute("SELECT name FROM members_member ORDER BY name")]
            events = db.execute(
                "SELECT COUNT(*) FROM audit_auditevent WHERE object_type = 'members.member'"
            ).fetchone()[0]
            status = db.execute("SELECT status FROM members_importbatch").fetchone()[0]
        return members, events, status

    assert json.loads(run("setup", str(tmp_path / "kill.xlsx"))) == {"status": "checked", "new": 35}

    process = subprocess.Popen(
        [sys.executable, str(tmp_path / "kill.py"), "apply-and-hang"],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()
        assert line.startswith("WRITTEN 10"), line + process.stderr.read()[-3000:]
        process.send_signal(signal.SIGKILL)
        assert process.wait(timeout=30) == -signal.SIGKILL
    finally:
        if process.poll() is None:
            process.kill()
        process.stdout.close()
        process.stderr.close()

    assert state() == ([], 0, "applying")  # ten rows were written, none survived

    assert run("apply").strip() == "APPLIED"
    assert state() == (sorted(names), 35, "applied")
    assert run("apply").startswith("REFUSED 该批次已经导入")
    assert state() == (sorted(names), 35, "applied")


# 9. Large files go through the background task.


def test_a_large_file_is_checked_and_applied_by_the_task(district, clerk_a, monkeypatch):
    monkeypatch.setattr(importing, "INLINE_ROWS", 2)
    finished = []

    def record(sender, task_result, **kwargs):
        finished.append((task_result.task.name, task_result.status))

    task_finished.connect(record)
    try:
        rows = [
            row(district.branch_a.name, 姓名=f"后台{i}", birth=date(1970 + i, 1, 1))
            for i in range(5)
        ]
        batch = uploaded_batch(clerk_a, workbook_bytes(rows))
        batch.refresh_from_db()
        assert batch.status == ImportBatch.Status.CHECKED
        assert batch.processed_rows == batch.total_rows == 5
        progress = clerk_a.get(
            reverse("members:import_progress", args=[batch.pk]), HTTP_HX_REQUEST="true"
        )
        assert progress.status_code == 200
        assert progress["HX-Refresh"] == "true"
        assert "5 / 5" in progress.content.decode()

        confirm(clerk_a, batch)
        batch.refresh_from_db()
        assert batch.status == ImportBatch.Status.APPLIED
        assert batch.processed_rows == batch.total_rows == 5
        assert Member.objects.count() == 5
    finally:
        task_finished.disconnect(record)
    assert [name for name, _status in finished] == ["check_import", "apply_import"]
    assert {str(status) for _name, status in finished} == {"SUCCESSFUL"}


def test_the_import_pages_render(district, clerk_a):
    page = clerk_a.get(IMPORT_URL)
    assert page.status_code == 200
    assert "下载导入模板" in page.content.decode()
    batch = uploaded_batch(clerk_a, workbook_bytes([row(district.branch_a.name)]))
    assert batch.filename in clerk_a.get(IMPORT_URL).content.decode()
    page = clerk_a.get(batch.get_absolute_url()).content.decode()
    assert "确认导入（新增 1 人，更新 0 人）" in page
    assert "王小明" in page and mask(make_id(date(1990, 1, 1))) in page


def test_the_import_api_uploads_previews_and_confirms(district):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    from dangjian.accounts.roles import Role

    from .factories import grant

    user = UserFactory()
    grant(user, district.branch_a, Role.CLERK)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    good = row(district.branch_a.name, 姓名="接口导入", birth=date(1991, 2, 3))
    bad = row(district.branch_b.name, 姓名="越权导入", birth=date(1992, 2, 3))
    content = workbook_bytes([good, bad])

    refused = api.post(
        "/api/member-imports/", {"file": SimpleUploadedFile("a.txt", b"hello")}, format="multipart"
    )
    assert refused.status_code == 400 and refused.json()["file"]

    created = api.post(
        "/api/member-imports/",
        {"file": SimpleUploadedFile("花名册.xlsx", content)},
        format="multipart",
    )
    assert created.status_code == 201, created.content
    batch = created.json()
    assert (batch["status"], batch["new_count"], batch["error_rows"]) == ("checked", 1, 1)
    assert not Member.objects.filter(name="接口导入").exists()

    url = f"/api/member-imports/{batch['id']}/confirm/"
    assert api.post(url, {}, format="json").status_code == 400  # errors: not without consent
    applied = api.post(url, {"valid_rows_only": True}, format="json")
    assert applied.status_code == 200 and applied.json()["status"] == "applied"
    assert Member.objects.filter(name="接口导入", organization=district.branch_a).exists()
    assert not Member.objects.filter(name="越权导入").exists()

    other = UserFactory()
    grant(other, district.branch_a, Role.CLERK)
    other_api = APIClient()
    other_api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=other).key}")
    assert other_api.get(f"/api/member-imports/{batch['id']}/").status_code == 404


def test_an_apply_whose_process_died_can_be_confirmed_again(district, clerk_a):
    from datetime import timedelta

    from django.utils import timezone

    content = workbook_bytes([row(district.branch_a.name, 姓名="断电后重试")])
    batch = uploaded_batch(clerk_a, content)
    # A process claimed it and died: still "applying", no heartbeat since.
    ImportBatch.objects.filter(pk=batch.pk).update(status="applying", updated_at=timezone.now())
    confirm(clerk_a, batch)
    assert not Member.objects.filter(name="断电后重试").exists()  # alive: left alone
    ImportBatch.objects.filter(pk=batch.pk).update(updated_at=timezone.now() - timedelta(hours=1))
    confirm(clerk_a, batch)
    batch.refresh_from_db()
    assert batch.status == "applied"
    assert Member.objects.filter(name="断电后重试").exists()
