"""Excel summaries of member development for a subtree: the 拟发展对象 summary (candidates
awaiting admission) and the 拟转正 summary (probationary members due for conversion).

Like the roster export, rows are streamed (openpyxl write-only) to a temporary file, dates are
written as dates and text never as a formula. The sheets carry no ID numbers; each export is
one entry in the audit log (who took which people's particulars out of the system).
"""

from __future__ import annotations

import tempfile
from datetime import date
from decimal import Decimal

from django.db.models import Prefetch
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from dangjian.audit.models import AuditAction
from dangjian.audit.services import record as audit
from dangjian.members.template_xlsx import header_row, write_row
from dangjian.organizations.models import Organization

from . import steps
from .models import DevelopmentRecord, Outcome, Participant, StepRecord
from .steps import Role, Stage

CHUNK = 2_000


def _header(sheet, titles: list[str], widths: list[int]) -> None:
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    header_row(sheet, titles)


def _title(sheet, text: str) -> None:
    cell = WriteOnlyCell(sheet, text)
    cell.font = Font(bold=True, size=14)
    sheet.append([cell])


def _save(workbook: Workbook):
    stream = tempfile.TemporaryFile()
    workbook.save(stream)
    stream.seek(0)
    return stream


def _subtree_records(organization: Organization):
    return DevelopmentRecord.objects.filter(
        organization__in=Organization.objects.within(organization), outcome=Outcome.OPEN
    ).select_related("organization")


def _audit(actor, organization: Organization, what: str, count: int) -> None:
    audit(
        AuditAction.READ,
        actor=actor,
        instance=organization,
        reason=_("导出%(what)s（%(n)d人）") % {"what": what, "n": count},
    )


# ---- 拟发展对象 ----

CANDIDATE_COLUMNS = [
    (gettext_lazy("序号"), 6),
    (gettext_lazy("姓名"), 10),
    (gettext_lazy("性别"), 6),
    (gettext_lazy("出生日期"), 12),
    (gettext_lazy("民族"), 8),
    (gettext_lazy("学历"), 12),
    (gettext_lazy("工作单位及职务"), 24),
    (gettext_lazy("申请入党日期"), 12),
    (gettext_lazy("确定为入党积极分子日期"), 14),
    (gettext_lazy("确定为发展对象日期"), 14),
    (gettext_lazy("入党介绍人"), 16),
    (gettext_lazy("政治审查"), 16),
    (gettext_lazy("集中培训"), 18),
    (gettext_lazy("所在党支部"), 26),
    (gettext_lazy("当前进度"), 24),
]


def candidates(organization: Organization):
    """Open records at the candidate stage (steps 7..16: not yet approved as probationary)."""
    return (
        _subtree_records(organization)
        .filter(stage=Stage.CANDIDATE)
        .prefetch_related(
            Prefetch(
                "people",
                queryset=Participant.objects.filter(role=Role.SPONSOR),
                to_attr="sponsors",
            ),
            Prefetch(
                "steps",
                queryset=StepRecord.objects.filter(
                    number__in=[steps.POLITICAL_REVIEW, steps.TRAINING]
                ),
                to_attr="checked",
            ),
        )
        .order_by("organization__path", "candidate_on", "pk")
    )


def _review(step: StepRecord | None) -> str:
    if step is None:
        return _("未审查")
    verdict = _("合格") if step.passed else _("不合格")
    return f"{verdict}（{step.date.isoformat()}）"


def plain(number) -> str:
    """3.0 as "3", 24.5 as "24.5", None as "0"."""
    return format(Decimal(number or 0).normalize(), "f")


def _training(step: StepRecord | None) -> str:
    if step is None:
        return _("未培训")
    return _("%(d)s天、%(h)s学时（%(day)s）") % {
        "d": plain(step.training_days),
        "h": plain(step.training_hours),
        "day": step.date.isoformat(),
    }


def candidate_values(index: int, record: DevelopmentRecord) -> list:
    checked = {step.number: step for step in record.checked}
    return [
        index,
        record.name,
        record.get_gender_display(),
        record.birth_date,
        record.ethnicity,
        record.get_education_display(),
        record.work_unit,
        record.applied_on,
        record.activist_on,
        record.candidate_on,
        "、".join(person.name for person in record.sponsors),
        _review(checked.get(steps.POLITICAL_REVIEW)),
        _training(checked.get(steps.TRAINING)),
        record.organization.name,
        str(steps.step_label(record.step)),
    ]


def candidates_workbook(actor, organization: Organization, today: date):
    """The 拟发展对象 summary of ``organization``'s subtree, as a temporary .xlsx file."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("拟发展对象"))
    _title(
        sheet,
        _("%(org)s 拟发展对象汇总表（截至%(today)s）")
        % {"org": organization.name, "today": today.isoformat()},
    )
    _header(sheet, [str(t) for t, _w in CANDIDATE_COLUMNS], [w for _t, w in CANDIDATE_COLUMNS])
    count = 0
    for record in candidates(organization).iterator(chunk_size=CHUNK):
        count += 1
        write_row(sheet, candidate_values(count, record))
    _audit(actor, organization, _("拟发展对象汇总表"), count)
    return _save(workbook)


# ---- 拟转正 ----

CONVERSION_COLUMNS = [
    (gettext_lazy("序号"), 6),
    (gettext_lazy("姓名"), 10),
    (gettext_lazy("性别"), 6),
    (gettext_lazy("出生日期"), 12),
    (gettext_lazy("所在党支部"), 26),
    (gettext_lazy("支部大会接收日期"), 14),
    (gettext_lazy("上级党委审批日期"), 14),
    (gettext_lazy("预备期满日期"), 14),
    (gettext_lazy("延长预备期"), 24),
    (gettext_lazy("支部大会讨论转正日期"), 16),
    (gettext_lazy("状态"), 14),
]


def conversions(organization: Organization, until: date):
    """Probationary members whose probation ends by ``until`` (or has ended) and who are not
    yet full members (the conversion not approved)."""
    return (
        _subtree_records(organization)
        .filter(stage=Stage.PROBATIONARY, probation_ends_on__lte=until)
        .order_by("probation_ends_on", "organization__path", "pk")
    )


def _extension(record: DevelopmentRecord) -> str:
    if not record.extension_months:
        return _("否")
    return _("延长%(n)d个月（%(day)s决定）：%(reason)s") % {
        "n": record.extension_months,
        "day": record.extension_decided_on.isoformat() if record.extension_decided_on else "",
        "reason": record.extension_reason,
    }


def _conversion_state(record: DevelopmentRecord, today: date) -> str:
    if record.step >= steps.CONVERSION_MEETING:
        return _("待上级党委审批")
    if record.probation_ends_on <= today:
        return _("已期满，待支部大会讨论")
    return _("未期满")


def conversion_values(index: int, record: DevelopmentRecord, today: date) -> list:
    return [
        index,
        record.name,
        record.get_gender_display(),
        record.birth_date,
        record.organization.name,
        record.admitted_on,
        record.approved_on,
        record.probation_ends_on,
        _extension(record),
        record.conversion_meeting_on,
        _conversion_state(record, today),
    ]


def conversions_workbook(actor, organization: Organization, until: date, today: date):
    """The 拟转正 summary of ``organization``'s subtree, as a temporary .xlsx file."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("拟转正"))
    _title(
        sheet,
        _("%(org)s 预备党员拟转正汇总表（预备期%(until)s前期满，%(today)s导出）")
        % {
            "org": organization.name,
            "until": until.isoformat(),
            "today": today.isoformat(),
        },
    )
    _header(sheet, [str(t) for t, _w in CONVERSION_COLUMNS], [w for _t, w in CONVERSION_COLUMNS])
    count = 0
    for record in conversions(organization, until).iterator(chunk_size=CHUNK):
        count += 1
        write_row(sheet, conversion_values(count, record, today))
    _audit(actor, organization, _("预备党员拟转正汇总表"), count)
    return _save(workbook)
