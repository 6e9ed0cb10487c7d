"""The rules about organizations, with the regulation each comes from."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from dangjian.rules.registry import Rule, RuleBook, register

from .models import COMMITTEE_TYPES, OrgType, Sector

TERM_CITATION = _("中共中央办公厅《关于党的基层组织任期的意见》（2018）")
BRANCH_REGULATION = _("《中国共产党支部工作条例（试行）》（2018）")

TERM_YEARS_COMMITTEE = register(
    Rule(
        key="term.years.committee",
        label=_("基层委员会每届任期"),
        default=5,
        unit=_("年"),
        citation=TERM_CITATION,
        configurable=True,
        minimum=3,
        maximum=5,
    )
)
TERM_YEARS_BRANCH = register(
    Rule(
        key="term.years.branch",
        label=_("总支部、支部委员会每届任期"),
        default=3,
        unit=_("年"),
        citation=TERM_CITATION,
        configurable=True,
        minimum=2,
        maximum=5,
    )
)
TERM_YEARS_VILLAGE_COMMUNITY = register(
    Rule(
        key="term.years.village_community",
        label=_("村、社区党组织每届任期"),
        default=5,
        unit=_("年"),
        citation=TERM_CITATION,
        configurable=True,
        minimum=3,
        maximum=5,
    )
)
TERM_MAX_ADJUST_MONTHS = register(
    Rule(
        key="term.max_adjust_months",
        label=_("经批准延期或提前换届的最长期限"),
        default=12,
        unit=_("个月"),
        citation=TERM_CITATION,
    )
)
TERM_WARNING_MONTHS = register(
    Rule(
        key="term.warning_months",
        label=_("换届提醒提前期"),
        default=6,
        unit=_("个月"),
        citation=TERM_CITATION,
        configurable=True,
        minimum=1,
        maximum=12,
    )
)
COMMUNITY_PREMISES_MIN_AREA = register(
    Rule(
        key="community.premises_min_area",
        label=_("社区办公服务场所最低面积"),
        default=1000,
        unit=_("平方米"),
        citation=_("城市基层党建工作会议部署：每个社区总体不少于1000平方米（各地标准可配置）"),
        configurable=True,
        minimum=0,
    )
)
VILLAGE_HOLLOW_INCOME = register(
    Rule(
        key="village.hollow_income_threshold",
        label=_("集体经济“空壳村”收入标准（低于即为空壳村）"),
        default=Decimal("50000"),
        unit=_("元/年"),
        citation=_("基层党建工作会议部署：基本消除集体收入“空壳村”（各地标准可配置）"),
        configurable=True,
        minimum=0,
    )
)
BRANCH_MIN_MEMBERS = register(
    Rule(
        key="branch.min_full_members",
        label=_("单独成立党支部所需正式党员数"),
        default=3,
        unit=_("人"),
        citation=_("《中国共产党章程》第三十条；《中国共产党支部工作条例（试行）》第五条"),
    )
)
COVERAGE_TARGETS = {
    "non_public_enterprise": register(
        Rule(
            key="coverage.target.non_public_enterprise",
            label=_("非公企业党组织覆盖率目标"),
            default=Decimal("90"),
            unit="%",
            citation=_("两新组织“两个覆盖”年度目标（各地可配置）"),
            configurable=True,
            minimum=0,
            maximum=100,
        )
    ),
    "social_organization": register(
        Rule(
            key="coverage.target.social_organization",
            label=_("社会组织党组织覆盖率目标"),
            default=Decimal("90"),
            unit="%",
            citation=_("两新组织“两个覆盖”年度目标（各地可配置）"),
            configurable=True,
            minimum=0,
            maximum=100,
        )
    ),
    "small_business": register(
        Rule(
            key="coverage.target.small_business",
            label=_("“小个专”党组织覆盖率目标"),
            default=Decimal("50"),
            unit="%",
            citation=_("新兴领域党建工作会议部署：年底前“小个专”党组织覆盖率达到50%"),
            configurable=True,
            minimum=0,
            maximum=100,
        )
    ),
}


@dataclass(frozen=True)
class TreeRule:
    child: str
    parents: frozenset[str]
    root_allowed: bool
    citation: str


_TREE_CITATION = _(
    "《中国共产党章程》第三十条；《中国共产党支部工作条例（试行）》第五条、第六条；"
    "《中国共产党国有企业基层组织工作条例（试行）》第七条"
)
_ABOVE_BRANCH = frozenset({OrgType.COMMITTEE, OrgType.WORKING_COMMITTEE, OrgType.GENERAL_BRANCH})

# Which type of organization may stand under which. A 党小组 only under a branch; a branch
# contains no committee; a 党总支 sits under a committee.
TREE_RULES: dict[str, TreeRule] = {
    rule.child: rule
    for rule in [
        TreeRule(OrgType.COMMITTEE, COMMITTEE_TYPES, True, _TREE_CITATION),
        TreeRule(OrgType.WORKING_COMMITTEE, COMMITTEE_TYPES, True, _TREE_CITATION),
        TreeRule(OrgType.GENERAL_BRANCH, COMMITTEE_TYPES, False, _TREE_CITATION),
        TreeRule(OrgType.BRANCH, _ABOVE_BRANCH, False, _TREE_CITATION),
        TreeRule(OrgType.JOINT_BRANCH, _ABOVE_BRANCH, False, _TREE_CITATION),
        TreeRule(OrgType.TEMPORARY_BRANCH, _ABOVE_BRANCH, False, _TREE_CITATION),
        TreeRule(
            OrgType.GROUP,
            frozenset({OrgType.BRANCH, OrgType.JOINT_BRANCH, OrgType.TEMPORARY_BRANCH}),
            False,
            _TREE_CITATION,
        ),
    ]
}

# Types whose committee is elected for a term. A 党工委 is appointed by the committee that
# sends it; temporary branches and groups hold no elections.
ELECTED_TYPES = frozenset(
    {OrgType.COMMITTEE, OrgType.GENERAL_BRANCH, OrgType.BRANCH, OrgType.JOINT_BRANCH}
)
# Types that must have a secretary.
SECRETARY_REQUIRED_TYPES = frozenset(
    {
        OrgType.COMMITTEE,
        OrgType.WORKING_COMMITTEE,
        OrgType.GENERAL_BRANCH,
        OrgType.BRANCH,
        OrgType.JOINT_BRANCH,
        OrgType.TEMPORARY_BRANCH,
    }
)


def default_term_years(org_type: str, sector: str, rules: RuleBook) -> int | None:
    """The length of a term under the 2018 term rules, or None where no term is elected."""
    if org_type not in ELECTED_TYPES:
        return None
    if sector in (Sector.VILLAGE, Sector.COMMUNITY):
        return rules[TERM_YEARS_VILLAGE_COMMUNITY.key]
    if org_type == OrgType.COMMITTEE:
        return rules[TERM_YEARS_COMMITTEE.key]
    return rules[TERM_YEARS_BRANCH.key]
