"""The five stages and 25 steps of member development (发展党员工作流程), as data.

Each step says which stage it belongs to, who performs it (the branch, or the higher
committee, whose steps need the approval permission on the branch's parent), the people it
involves, and whether it records a vote, a training or a public notice. The services check
the rules; the pages and the Excel sheets read their labels from here.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class Stage(models.TextChoices):
    """Where the person stands: what the last recorded step made them."""

    APPLICANT = "applicant", _("入党申请人")
    ACTIVIST = "activist", _("入党积极分子")
    CANDIDATE = "candidate", _("发展对象")
    PROBATIONARY = "probationary", _("预备党员")
    FULL = "full", _("正式党员")


class Phase(models.IntegerChoices):
    """The five parts of the procedure, as the regulation's chapters group the steps."""

    APPLICATION = 1, _("申请入党")
    ACTIVIST = 2, _("入党积极分子的确定和培养教育")
    CANDIDATE = 3, _("发展对象的确定和考察")
    ADMISSION = 4, _("预备党员的接收")
    PROBATION = 5, _("预备党员的教育考察和转正")


class Role(models.TextChoices):
    """What a person did for the record."""

    TALKER = "talker", _("谈话人")
    CONTACT = "contact", _("培养联系人")
    SPONSOR = "sponsor", _("入党介绍人")
    COMMITTEE_TALKER = "committee_talker", _("上级党委谈话人")
    APPROVER = "approver", _("审批人")


@dataclass(frozen=True)
class Step:
    number: int
    code: str
    label: str | Promise
    phase: Phase
    by_higher_committee: bool = False  # recorded by whoever may approve for the parent
    stage_after: Stage | None = None  # the stage the person enters with this step
    role: Role | None = None  # the people this step names
    vote: bool = False
    training: bool = False
    notice: bool = False
    review: bool = False  # political review: passed or not
    assessment: bool = False  # records the first half-yearly assessment of its stage


STEPS: tuple[Step, ...] = (
    Step(1, "application", _("递交入党申请书"), Phase.APPLICATION, stage_after=Stage.APPLICANT),
    Step(2, "talk", _("党组织派人谈话"), Phase.APPLICATION, role=Role.TALKER),
    Step(3, "activist", _("推荐和确定入党积极分子"), Phase.ACTIVIST, stage_after=Stage.ACTIVIST),
    Step(4, "activist_filed", _("报上级党委备案"), Phase.ACTIVIST, by_higher_committee=True),
    Step(5, "contacts", _("指定培养联系人"), Phase.ACTIVIST, role=Role.CONTACT),
    Step(6, "activist_education", _("培养教育考察"), Phase.ACTIVIST, assessment=True),
    Step(7, "candidate", _("确定发展对象"), Phase.CANDIDATE, stage_after=Stage.CANDIDATE),
    Step(8, "candidate_filed", _("报上级党委备案"), Phase.CANDIDATE, by_higher_committee=True),
    Step(9, "sponsors", _("确定入党介绍人"), Phase.CANDIDATE, role=Role.SPONSOR),
    Step(10, "political_review", _("进行政治审查"), Phase.CANDIDATE, review=True),
    Step(11, "training", _("开展集中培训"), Phase.CANDIDATE, training=True),
    Step(12, "committee_review", _("支部委员会审查"), Phase.ADMISSION),
    Step(
        13, "pre_review", _("上级党委预审（含公示）"), Phase.ADMISSION,
        by_higher_committee=True, notice=True,
    ),
    Step(14, "volunteer_form", _("填写入党志愿书"), Phase.ADMISSION),
    Step(15, "admission_meeting", _("支部党员大会讨论接收预备党员"), Phase.ADMISSION, vote=True),
    Step(
        16, "committee_talk", _("上级党委派人谈话"), Phase.ADMISSION,
        by_higher_committee=True, role=Role.COMMITTEE_TALKER,
    ),
    Step(
        17, "approval", _("上级党委审批"), Phase.ADMISSION,
        by_higher_committee=True, stage_after=Stage.PROBATIONARY, role=Role.APPROVER,
    ),
    Step(
        18, "admission_filed", _("再上一级党委组织部门备案"), Phase.ADMISSION,
        by_higher_committee=True,
    ),
    Step(19, "placement", _("编入党支部和党小组"), Phase.PROBATION),
    Step(20, "oath", _("入党宣誓"), Phase.PROBATION),
    Step(21, "probation_education", _("继续教育考察"), Phase.PROBATION, assessment=True),
    Step(22, "conversion_application", _("提出转正申请"), Phase.PROBATION),
    Step(23, "conversion_meeting", _("支部党员大会讨论转正"), Phase.PROBATION, vote=True),
    Step(
        24, "conversion_approval", _("上级党委审批转正"), Phase.PROBATION,
        by_higher_committee=True, stage_after=Stage.FULL, role=Role.APPROVER,
    ),
    Step(25, "archived", _("材料归档"), Phase.PROBATION),
)  # fmt: skip

BY_NUMBER: dict[int, Step] = {step.number: step for step in STEPS}
LAST = STEPS[-1].number

APPLICATION, TALK, ACTIVIST, CONTACTS, ACTIVIST_EDUCATION = 1, 2, 3, 5, 6
CANDIDATE, SPONSORS, POLITICAL_REVIEW, TRAINING = 7, 9, 10, 11
COMMITTEE_REVIEW, PRE_REVIEW, VOLUNTEER_FORM, ADMISSION_MEETING = 12, 13, 14, 15
APPROVAL, PLACEMENT, PROBATION_EDUCATION = 17, 19, 21
CONVERSION_MEETING, CONVERSION_APPROVAL = 23, 24


def stage_after(number: int) -> Stage:
    """The stage a person is in once steps 1..``number`` are recorded."""
    stage = Stage.APPLICANT
    for step in STEPS[:number]:
        stage = step.stage_after or stage
    return stage


def step_label(number: int) -> str:
    return f"{number}. {BY_NUMBER[number].label}"
