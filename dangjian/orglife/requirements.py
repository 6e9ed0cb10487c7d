"""What organizational life each organization owes, as data: one requirement per kind.

The defaults are those of the 2018 branch regulation (《中国共产党支部工作条例（试行）》);
a top organization's administrator may change period, minimum, quorum, the organization types
it applies to, or switch it off (:class:`~dangjian.orglife.models.RequirementSetting`). Every
status the compliance engine reports carries the requirement and its citation.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from django.utils.translation import gettext_lazy as _

from dangjian.organizations.models import BRANCH_TYPES, OrgType

from .choices import MeetingKind, Period

BRANCHES = tuple(sorted(BRANCH_TYPES))
REGULATION = "《中国共产党支部工作条例（试行）》"


@dataclass(frozen=True)
class Requirement:
    kind: str
    period: str
    minimum: int
    org_types: tuple[str, ...]
    citation: str
    rule_text: str
    # A meeting counts only when more than this share of those expected were present.
    quorum_percent: int = 0
    # Only for branches that have a branch committee (支部委员会), e.g. 支委会.
    needs_committee: bool = False
    enabled: bool = True
    customized: bool = False

    @property
    def key(self) -> str:
        return self.kind

    @property
    def label(self) -> str:
        return MeetingKind(self.kind).label

    @property
    def slots(self) -> int:
        """How many periods a year holds."""
        return {Period.MONTH: 12, Period.QUARTER: 4, Period.YEAR: 1}[self.period]

    def slot_of_month(self, month: int) -> int:
        return (month - 1) * self.slots // 12

    def slot_months(self, slot: int) -> tuple[int, int]:
        """First and last month (1–12) of a slot."""
        width = 12 // self.slots
        return slot * width + 1, slot * width + width

    def summary(self) -> str:
        text = _("%(period)s至少%(n)d次") % {
            "period": Period(self.period).label,
            "n": self.minimum,
        }
        if self.quorum_percent:
            text += _("，到会须超过应到人数的%(q)d%%") % {"q": self.quorum_percent}
        return str(text)


DEFAULT_REQUIREMENTS: tuple[Requirement, ...] = (
    Requirement(
        MeetingKind.GENERAL_MEETING,
        Period.QUARTER,
        1,
        BRANCHES,
        citation=REGULATION + "第十一条",
        rule_text=_("支部党员大会一般每季度召开1次"),
    ),
    Requirement(
        MeetingKind.COMMITTEE_MEETING,
        Period.MONTH,
        1,
        BRANCHES,
        citation=REGULATION + "第十二条",
        rule_text=_("支部委员会会议一般每月召开1次，须有半数以上委员到会"),
        quorum_percent=50,
        needs_committee=True,
    ),
    Requirement(
        MeetingKind.GROUP_MEETING,
        Period.MONTH,
        1,
        (OrgType.GROUP,),
        citation=REGULATION + "第十三条",
        rule_text=_("党小组会一般每月召开1次"),
    ),
    Requirement(
        MeetingKind.LECTURE,
        Period.YEAR,
        1,
        BRANCHES,
        citation=REGULATION + "第十六条",
        rule_text=_("党支部书记每年至少讲1次党课（许多地方要求每季度1次）"),
    ),
    Requirement(
        MeetingKind.THEME_DAY,
        Period.MONTH,
        1,
        BRANCHES,
        citation=REGULATION + "第十六条",
        rule_text=_("党支部每月相对固定1天开展主题党日"),
    ),
    Requirement(
        MeetingKind.LIFE_MEETING,
        Period.YEAR,
        1,
        BRANCHES,
        citation=REGULATION + "第十七条",
        rule_text=_("组织生活会一般每年召开1次，多安排在第四季度"),
    ),
    Requirement(
        MeetingKind.APPRAISAL,
        Period.YEAR,
        1,
        BRANCHES,
        citation=REGULATION + "第十八条",
        rule_text=_("民主评议党员一般每年开展1次：个人自评、党员互评、民主测评"),
    ),
    Requirement(
        MeetingKind.TALK,
        Period.YEAR,
        1,
        BRANCHES,
        citation=REGULATION + "第十九条",
        rule_text=_("支部委员之间、支部委员和党员之间、党员和党员之间每年谈心谈话一般不少于1次"),
    ),
)
DEFAULTS = {r.kind: r for r in DEFAULT_REQUIREMENTS}
# The organization types a requirement may be set to apply to (党小组会: groups only).
MEETING_HOLDER_TYPES = (*BRANCHES, OrgType.GENERAL_BRANCH)


def requirements_for(root) -> list[Requirement]:
    """The requirements in force in ``root``'s tree (root is a top-level organization or None)."""
    from .models import RequirementSetting

    settings = {}
    if root is not None:
        settings = {s.kind: s for s in RequirementSetting.objects.filter(root=root)}
    result = []
    for default in DEFAULT_REQUIREMENTS:
        setting = settings.get(default.kind)
        if setting is None:
            result.append(default)
            continue
        result.append(
            replace(
                default,
                period=setting.period,
                minimum=setting.minimum,
                quorum_percent=setting.quorum_percent,
                org_types=tuple(setting.org_types) or default.org_types,
                enabled=setting.enabled,
                customized=True,
            )
        )
    return result


def requirements_for_organization(organization) -> list[Requirement]:
    from dangjian.organizations.models import Organization

    return requirements_for(Organization.objects.filter(path=organization.root_path).first())
