"""Numbers of party dues that come from regulations, with their sources.

The rate table itself lives in :mod:`dangjian.dues.rates`; its thresholds and rates are rules
here so that a top-level organization may adjust them (as provincial implementing rules do).
Rates are percentages (0.50 = 0.5%), thresholds yuan per month.
"""

from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from dangjian.rules.registry import Rule, register

DUES_CITATION = _("《关于中国共产党党费收缴、使用和管理的规定》（中组发〔2008〕3号）")
CHARTER_ART9 = _("《中国共产党章程》第九条")


def _money(key, label, default, minimum, maximum, citation=DUES_CITATION):
    return register(
        Rule(
            key=key,
            label=label,
            default=Decimal(default),
            unit=_("元"),
            citation=citation,
            configurable=True,
            minimum=Decimal(minimum),
            maximum=Decimal(maximum),
        )
    )


def _rate(key, label, default, minimum="0.10", maximum="5.00"):
    return register(
        Rule(
            key=key,
            label=label,
            default=Decimal(default),
            unit="%",
            citation=DUES_CITATION,
            configurable=True,
            minimum=Decimal(minimum),
            maximum=Decimal(maximum),
        )
    )


# In service: monthly after-tax regular income (税后工资性收入).
IN_SERVICE_UPPER_1 = _money(
    "dues.in_service_upper_1", _("在职党员第一档月收入上限（含）"), "3000", "1000", "10000"
)
IN_SERVICE_UPPER_2 = _money(
    "dues.in_service_upper_2", _("在职党员第二档月收入上限（含）"), "5000", "2000", "20000"
)
IN_SERVICE_UPPER_3 = _money(
    "dues.in_service_upper_3", _("在职党员第三档月收入上限（含）"), "10000", "3000", "50000"
)
IN_SERVICE_RATE_1 = _rate("dues.in_service_rate_1", _("在职党员第一档交纳比例"), "0.50")
IN_SERVICE_RATE_2 = _rate("dues.in_service_rate_2", _("在职党员第二档交纳比例"), "1.00")
IN_SERVICE_RATE_3 = _rate("dues.in_service_rate_3", _("在职党员第三档交纳比例"), "1.50")
IN_SERVICE_RATE_4 = _rate("dues.in_service_rate_4", _("在职党员第四档交纳比例"), "2.00")

# Retired: monthly basic pension (基本离退休费).
RETIRED_UPPER_1 = _money(
    "dues.retired_upper_1", _("离退休党员第一档基本离退休费上限（含）"), "5000", "1000", "20000"
)
RETIRED_RATE_1 = _rate("dues.retired_rate_1", _("离退休党员第一档交纳比例"), "0.50")
RETIRED_RATE_2 = _rate("dues.retired_rate_2", _("离退休党员第二档交纳比例"), "1.00")

# Fixed monthly amounts.
FARMER_MINIMUM = _money("dues.farmer_minimum", _("农民党员每月交纳党费下限"), "0.20", "0.10", "5")
FARMER_MAXIMUM = _money("dues.farmer_maximum", _("农民党员每月交纳党费上限"), "1.00", "0.10", "5")
LOW_INCOME_AMOUNT = _money(
    "dues.low_income_amount",
    _("学生党员、下岗失业党员、领取救济金或最低生活保障金的党员每月交纳党费"),
    "0.20",
    "0.10",
    "5",
)

BACKPAY_MONTHS = register(
    Rule(
        key="dues.backpay_months",
        label=_("补交党费一般不超过此月数（超过须经党组织批准并说明理由）"),
        default=6,
        unit=_("个月"),
        citation=DUES_CITATION,
        configurable=True,
        minimum=1,
        maximum=12,
    )
)
SPECIAL_CONTRIBUTION_MINIMUM = register(
    Rule(
        key="dues.special_contribution_minimum",
        label=_("党员自愿一次多交纳此金额以上的党费，单独登记（全部上缴中央）"),
        default=Decimal("1000"),
        unit=_("元"),
        citation=DUES_CITATION,
    )
)
ARREARS_MONTHS = register(
    Rule(
        key="dues.arrears_months",
        label=_("连续此期限不交纳党费（无正当理由）的，认为是自行脱党"),
        default=6,
        unit=_("个月"),
        citation=CHARTER_ART9,
    )
)
ARREARS_WARNING_MONTHS = register(
    Rule(
        key="dues.arrears_warning_months",
        label=_("连续此期限未交纳党费即提醒党支部谈心谈话、督促交纳"),
        default=3,
        unit=_("个月"),
        citation=_("《中国共产党章程》第九条（提前提醒，本地可设）"),
        configurable=True,
        minimum=1,
        maximum=5,
    )
)

IN_SERVICE_UPPERS = (IN_SERVICE_UPPER_1, IN_SERVICE_UPPER_2, IN_SERVICE_UPPER_3)
IN_SERVICE_RATES = (IN_SERVICE_RATE_1, IN_SERVICE_RATE_2, IN_SERVICE_RATE_3, IN_SERVICE_RATE_4)
