"""Numbers of organizational life that come from regulations, with their sources."""

from django.utils.translation import gettext_lazy as _

from dangjian.rules.registry import Rule, register

ABSENT_MONTHS = register(
    Rule(
        key="orglife.absent_months",
        label=_("连续此期限不参加党的组织生活的，认为是自行脱党"),
        default=6,
        unit=_("个月"),
        citation=_("《中国共产党章程》第九条"),
    )
)
ABSENCE_WARNING_MONTHS = register(
    Rule(
        key="orglife.absence_warning_months",
        label=_("连续此期限未参加组织生活即提醒党支部谈心谈话"),
        default=3,
        unit=_("个月"),
        citation=_("《中国共产党章程》第九条（提前提醒，本地可设）"),
        configurable=True,
        minimum=1,
        maximum=5,
    )
)
REMINDER_LEAD_MONTHS = register(
    Rule(
        key="orglife.reminder_lead_months",
        label=_("按季度、年度要求的工作，在期限前此月数起列入重点工作提醒单"),
        default=3,
        unit=_("个月"),
        citation=_("《中国共产党支部工作条例（试行）》第五章（提醒在前，本地可设）"),
        configurable=True,
        minimum=1,
        maximum=12,
    )
)
ATTACHMENT_MAX_MB = register(
    Rule(
        key="orglife.attachment_max_mb",
        label=_("会议记录附件单个文件大小上限"),
        default=10,
        unit="MB",
        citation=_("系统设置"),
    )
)
CHECKIN_MINUTES = register(
    Rule(
        key="orglife.checkin_minutes",
        label=_("会议签到默认开放时长"),
        default=30,
        unit=_("分钟"),
        citation=_("系统设置"),
    )
)
