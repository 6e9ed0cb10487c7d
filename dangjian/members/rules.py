"""Rules about members and the size of branches, with their sources."""

from django.utils.translation import gettext_lazy as _

from dangjian.rules.registry import Rule, register

BRANCH_MAX_MEMBERS = register(
    Rule(
        key="branch.max_members",
        label=_("党支部党员人数一般不超过"),
        default=50,
        unit=_("人"),
        citation=_("《中国共产党支部工作条例（试行）》第二章 组织设置"),
    )
)
BRANCH_COMMITTEE_THRESHOLD = register(
    Rule(
        key="branch.committee_threshold",
        label=_("正式党员达到此数的党支部应设立支部委员会"),
        default=7,
        unit=_("人"),
        citation=_("《中国共产党支部工作条例（试行）》第六章 党支部委员会建设"),
    )
)
LOST_CONTACT_MONTHS = register(
    Rule(
        key="member.lost_contact_months",
        label=_("与党组织失去联系满此期限的认定为失联党员"),
        default=6,
        unit=_("个月"),
        citation=_("中央组织部关于排查和处置失联党员的有关规定（失去联系6个月以上）"),
    )
)
