"""Numbers of member development that come from regulations, with their sources.

Articles are those of 《中国共产党发展党员工作细则》 (中办 2014) and 《中国共产党章程》; where a
number is the locality's (the public-notice period), the rule is configurable and says so.
"""

from django.utils.translation import gettext_lazy as _

from dangjian.rules.registry import Rule, register

RULES_2014 = "《中国共产党发展党员工作细则》"


def _rule(key, label, default, unit, citation, **kwargs):
    return register(
        Rule(key=key, label=label, default=default, unit=unit, citation=citation, **kwargs)
    )


MINIMUM_AGE = _rule(
    "development.minimum_age",
    _("申请入党须年满"),
    18,
    _("周岁"),
    _("《中国共产党章程》第一条；《中国共产党发展党员工作细则》第五条"),
)
TALK_WITHIN_MONTHS = _rule(
    "development.talk_within_months",
    _("收到入党申请书后派人谈话的期限"),
    1,
    _("个月"),
    _("《中国共产党发展党员工作细则》第七条"),
)
ASSESSMENT_INTERVAL_MONTHS = _rule(
    "development.assessment_interval_months",
    _("党组织对入党积极分子、预备党员进行考察的间隔"),
    6,
    _("个月"),
    _("《中国共产党发展党员工作细则》第二章、第五章（每半年考察一次）"),
)
ACTIVIST_MINIMUM_MONTHS = _rule(
    "development.activist_minimum_months",
    _("入党积极分子经过培养教育和考察的最短时间"),
    12,
    _("个月"),
    _("《中国共产党发展党员工作细则》第十三条"),
)
CONTACTS_MAXIMUM = _rule(
    "development.contacts_maximum",
    _("培养联系人（正式党员）人数上限"),
    2,
    _("名"),
    _("《中国共产党发展党员工作细则》第二章（指定一至两名正式党员作培养联系人）"),
)
SPONSORS = _rule(
    "development.sponsors",
    _("入党介绍人（正式党员，受留党察看处分尚未恢复党员权利的除外）人数"),
    2,
    _("名"),
    _("《中国共产党章程》第五条；《中国共产党发展党员工作细则》第十四条"),
)
TRAINING_MINIMUM_DAYS = _rule(
    "development.training_minimum_days",
    _("发展对象短期集中培训不少于（天）"),
    3,
    _("天"),
    _("《中国共产党发展党员工作细则》第十七条"),
)
TRAINING_MINIMUM_HOURS = _rule(
    "development.training_minimum_hours",
    _("发展对象短期集中培训不少于（学时）"),
    24,
    _("学时"),
    _("《中国共产党发展党员工作细则》第十七条"),
)
NOTICE_LENGTH = _rule(
    "development.notice_length",
    _("发展对象公示期"),
    5,
    _("天"),
    _("发展党员公示制度（本地可设，默认5个工作日）"),
    configurable=True,
    minimum=3,
    maximum=30,
)
NOTICE_WORKING_DAYS = _rule(
    "development.notice_working_days",
    _("公示期按工作日计算（1＝工作日，0＝自然日）"),
    1,
    "",
    _("发展党员公示制度（本地可设）"),
    configurable=True,
    minimum=0,
    maximum=1,
)
QUORUM = _rule(
    "development.quorum_percent",
    _("支部党员大会有表决权的到会人数须超过应到会有表决权人数的"),
    50,
    "%",
    _("《中国共产党发展党员工作细则》第二十条"),
)
MAJORITY = _rule(
    "development.majority_percent",
    _("赞成人数须超过应到会有表决权的正式党员的"),
    50,
    "%",
    _("《中国共产党发展党员工作细则》第四章（支部大会讨论接收预备党员的表决）"),
)
APPROVAL_MONTHS = _rule(
    "development.approval_months",
    _("基层党委审批接收预备党员的期限（自支部大会通过之日起）"),
    3,
    _("个月"),
    _("《中国共产党发展党员工作细则》第四章（基层党委审批）"),
)
APPROVAL_MAXIMUM_MONTHS = _rule(
    "development.approval_maximum_months",
    _("特殊情况下延长审批时间的上限（须说明理由）"),
    6,
    _("个月"),
    _("《中国共产党发展党员工作细则》第四章（基层党委审批）"),
)
PROBATION_MONTHS = _rule(
    "development.probation_months",
    _("预备期（自支部大会通过其为预备党员之日算起）"),
    12,
    _("个月"),
    _("《中国共产党章程》第七条"),
)
EXTENSION_MINIMUM_MONTHS = _rule(
    "development.extension_minimum_months",
    _("延长预备期不少于"),
    6,
    _("个月"),
    _("《中国共产党发展党员工作细则》第五章（延长预备期）"),
)
EXTENSION_MAXIMUM_MONTHS = _rule(
    "development.extension_maximum_months",
    _("延长预备期不超过"),
    12,
    _("个月"),
    _("《中国共产党章程》第七条"),
)
CONVERSION_APPROVAL_MONTHS = _rule(
    "development.conversion_approval_months",
    _("基层党委审批预备党员转正的期限（自支部大会讨论之日起）"),
    3,
    _("个月"),
    _("《中国共产党发展党员工作细则》第五章（预备党员转正）"),
)
REMINDER_LEAD_MONTHS = _rule(
    "development.reminder_lead_months",
    _("预备期满、考察到期前提前提醒"),
    1,
    _("个月"),
    _("提前提醒（本地可设）"),
    configurable=True,
    minimum=0,
    maximum=3,
)
NO_NEW_MEMBER_YEARS = _rule(
    "development.no_new_member_years",
    _("连续此年限未发展党员的党支部"),
    3,
    _("年"),
    _("“3年以上未发展党员的党支部”（区国资委党建工作会议讲话）"),
)
