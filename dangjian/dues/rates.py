"""The party dues rate table (党费交纳标准), as data with its source.

中组部《关于中国共产党党费收缴、使用和管理的规定》（中组发〔2008〕3号）:

* in service, by monthly after-tax regular income (税后工资性收入):
  ≤3000 → 0.5%; >3000 and ≤5000 → 1%; >5000 and ≤10000 → 1.5%; >10000 → 2%;
* retired, by monthly basic pension (基本离退休费): ≤5000 → 0.5%; >5000 → 1%;
* farmers: 0.2–1 yuan a month (the amount chosen within that range);
* students, the unemployed, those on relief or the minimum living allowance: 0.2 yuan a month.

The rate of the bracket the income falls in applies to the whole income (not marginally):
3000.01 yuan pays 1% of 3000.01. Every amount is rounded to the fen (0.01 yuan), half up
(ROUND_HALF_UP: 0.005 → 0.01), as the regulation's worked figures are.

The thresholds and rates are rules (:mod:`dangjian.dues.rules`), adjustable per top-level
organization; :meth:`RateTable.from_rules` reads the table in force from a RuleBook.

:meth:`RateTable.monthly_cents` is the same computation as an SQL expression, in whole fen
(integers: exact on every database, where SQLite would compute a decimal column in floating
point), for the statistics that sum the dues of a whole subtree in the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise

from django.db import models
from django.db.models import BigIntegerField, Case, F, Func, Q, Value, When
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from dangjian.rules.registry import RuleBook

from . import rules

CITATION = rules.DUES_CITATION
CENT = Decimal("0.01")
HUNDRED = Decimal(100)


def to_cents(amount: Decimal) -> Decimal:
    """Money rounded to the fen, half up."""
    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


class Cents(Func):
    """A money column (yuan, two decimals) as a whole number of fen."""

    template = "CAST(ROUND(%(expressions)s * 100) AS BIGINT)"
    arity = 1
    output_field = BigIntegerField()


def fen(amount: Decimal) -> int:
    """``amount`` yuan in whole fen, rounded as :func:`to_cents` does."""
    return int(to_cents(amount) * 100)


class DuesCategory(models.TextChoices):
    """Which standard a member's dues follow."""

    IN_SERVICE = "in_service", _("在职党员（按税后工资性收入）")
    RETIRED = "retired", _("离退休党员（按基本离退休费）")
    FARMER = "farmer", _("农民党员（每月0.2至1元）")
    STUDENT = "student", _("学生党员（每月0.2元）")
    UNEMPLOYED = "unemployed", _("下岗失业党员（每月0.2元）")
    RELIEF = "relief", _("领取救济金或最低生活保障金的党员（每月0.2元）")


# Categories whose amount is a percentage of a monthly income.
INCOME_CATEGORIES = frozenset({DuesCategory.IN_SERVICE, DuesCategory.RETIRED})
LOW_INCOME_CATEGORIES = frozenset(
    {DuesCategory.STUDENT, DuesCategory.UNEMPLOYED, DuesCategory.RELIEF}
)


@dataclass(frozen=True)
class Bracket:
    """Incomes up to ``upper`` yuan inclusive (None: no upper bound) pay ``percent``%."""

    upper: Decimal | None
    percent: Decimal


@dataclass(frozen=True)
class RateTable:
    in_service: tuple[Bracket, ...]
    retired: tuple[Bracket, ...]
    farmer_minimum: Decimal
    farmer_maximum: Decimal
    low_income_amount: Decimal
    citation: str = str(CITATION)

    @staticmethod
    def rate(brackets: tuple[Bracket, ...], income: Decimal) -> Decimal:
        for bracket in brackets:
            if bracket.upper is None or income <= bracket.upper:
                return bracket.percent
        raise AssertionError("the last bracket has no upper bound")

    @classmethod
    def amount(cls, brackets: tuple[Bracket, ...], income: Decimal) -> Decimal:
        """The monthly dues on ``income``: the bracket's rate on the whole income, to the fen."""
        income = Decimal(income)
        if income < 0:
            raise ValueError("income must not be negative")
        return to_cents(income * cls.rate(brackets, income) / HUNDRED)

    def monthly(self, category: str, income: Decimal | None, fixed: Decimal | None) -> Decimal:
        if category == DuesCategory.IN_SERVICE:
            return self.amount(self.in_service, income or Decimal(0))
        if category == DuesCategory.RETIRED:
            return self.amount(self.retired, income or Decimal(0))
        if category == DuesCategory.FARMER:
            return to_cents(fixed if fixed is not None else self.farmer_minimum)
        return to_cents(self.low_income_amount)

    @staticmethod
    def amount_cents(brackets: tuple[Bracket, ...], income: str) -> Case:
        """:meth:`amount` as an SQL expression in fen, on the income column (or lookup)
        ``income`` (None counts as 0). The bracket's rate on the whole income, half up to the
        fen: with the rate a fraction n/d of a percent and the income i in fen, the due is
        i × n / (100 d) fen, which rounded half up is (2 n i + 100 d) // (200 d)."""
        income_cents = Coalesce(Cents(F(income)), 0, output_field=BigIntegerField())
        whens, default = [], None
        for bracket in brackets:
            numerator, denominator = Decimal(bracket.percent).as_integer_ratio()
            divisor = 100 * denominator
            due = (income_cents * (2 * numerator) + divisor) / (2 * divisor)
            if bracket.upper is None:
                default = due
                break
            within = Q(**{f"{income}__lte": bracket.upper})
            if not whens:
                within |= Q(**{f"{income}__isnull": True})
            whens.append(When(within, then=due))
        return Case(*whens, default=default, output_field=BigIntegerField())

    def monthly_cents(
        self,
        category: str = "category",
        income: str = "monthly_income",
        fixed: str = "fixed_amount",
    ) -> Case:
        """:meth:`monthly` as an SQL expression in fen, over the columns (or lookups) named
        ``category``, ``income`` and ``fixed`` of the query it is used in."""
        return Case(
            When(
                Q(**{category: DuesCategory.IN_SERVICE}),
                then=self.amount_cents(self.in_service, income),
            ),
            When(
                Q(**{category: DuesCategory.RETIRED}), then=self.amount_cents(self.retired, income)
            ),
            When(
                Q(**{category: DuesCategory.FARMER}),
                then=Coalesce(
                    Cents(F(fixed)), fen(self.farmer_minimum), output_field=BigIntegerField()
                ),
            ),
            default=Value(fen(self.low_income_amount)),
            output_field=BigIntegerField(),
        )

    @classmethod
    def from_rules(cls, book: RuleBook | None = None) -> RateTable:
        """The table in force under ``book``. Thresholds that an override leaves out of order
        (not strictly rising) cannot form brackets: the shipped thresholds then hold."""
        book = book or RuleBook()
        uppers = [book[r.key] for r in rules.IN_SERVICE_UPPERS]
        if any(a >= b for a, b in pairwise(uppers)):
            uppers = [r.default for r in rules.IN_SERVICE_UPPERS]
        in_service = tuple(
            Bracket(Decimal(upper) if upper is not None else None, Decimal(book[rate.key]))
            for upper, rate in zip([*uppers, None], rules.IN_SERVICE_RATES, strict=True)
        )
        retired = (
            Bracket(Decimal(book[rules.RETIRED_UPPER_1.key]), book[rules.RETIRED_RATE_1.key]),
            Bracket(None, book[rules.RETIRED_RATE_2.key]),
        )
        low, high = book[rules.FARMER_MINIMUM.key], book[rules.FARMER_MAXIMUM.key]
        if low > high:
            low, high = rules.FARMER_MINIMUM.default, rules.FARMER_MAXIMUM.default
        return cls(
            in_service=in_service,
            retired=retired,
            farmer_minimum=low,
            farmer_maximum=high,
            low_income_amount=book[rules.LOW_INCOME_AMOUNT.key],
        )


# The table as shipped (the 2008 rates).
DEFAULT_TABLE = RateTable.from_rules(RuleBook())
