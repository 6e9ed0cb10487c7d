"""Demo party dues: a year of the ledger for every member on the seeded rosters.

Deterministic for a seed and a "today", in the style of :mod:`dangjian.orglife.demo`: no
services, no per-member queries; the members are read once, every amount is computed in Python
from the rate table (:mod:`dangjian.dues.rates`, the table in force under each top-level
organization's rules, as :func:`dangjian.dues.services.monthly_due` reads it) and the rows are
written with :func:`dangjian.orglife.demo.insert_rows` (multi-row INSERT, COPY on
PostgreSQL). What it writes:

* the ledger covers the twelve months up to the last completed month L (the month before
  today's); it starts in the system then (the first month W = L − 11).
* bases (DuesBase): every member on the roster has one for the current year from January (or
  from their first owed month, the month after 入党日期, when later); where the twelve months
  reach into last year, one for last year from the ledger's start too. The category follows
  the roster: retired → pension, farmers → a fixed 0.2–1 yuan, students → 0.2 yuan, a few
  residents unemployed or on relief → 0.2 yuan, everyone else in service with an after-tax
  income spread over all four brackets (by sector). Some in-service members get a second base
  mid-year (an income change); a few have an approved reduction or exemption.
* payments (DuesPayment): each owed month up to L, mostly paid on time on the branch's
  collection day; some back-paid within six months; a few members prepaid the rest of the
  current year; some have not yet paid the last month or two.
* arrears: a small share of members stop paying — some three to five months ago (the warning,
  ``dues_arrears_warning``), fewer six or more (the flag, ``dues_arrears``) — concentrated in
  a few branches (more among non-public enterprises, social organizations and villages), plus
  a few scattered ones and the members who have lost contact. The demo logins' branch is not
  one of the lapsed branches; one member there has a warning, for the demo secretary to see.
* a handful of special contributions (特殊党费, ≥1000 yuan), some given with a month's dues.
* each member's unpaid runs (what the arrears flags read), derived from the rows written by
  the statement the services run for one member (:mod:`dangjian.dues.derived`).

Seeding is a bulk load: it writes no audit events.
"""

from __future__ import annotations

import calendar
import math
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db import connection

from dangjian.accounts.models import User
from dangjian.members.choices import ON_ROSTER, Category, Occupation, Standing
from dangjian.members.models import Member
from dangjian.organizations.models import Organization, Sector
from dangjian.orglife.demo import insert_rows
from dangjian.rules.registry import RuleBook

from .derived import refresh_unpaid_runs
from .models import (
    DuesBase,
    DuesPayment,
    PaymentKind,
    Reduction,
    SpecialContribution,
    UnpaidRun,
)
from .rates import CENT, INCOME_CATEGORIES, DuesCategory, RateTable, to_cents
from .rules import ARREARS_MONTHS, ARREARS_WARNING_MONTHS, BACKPAY_MONTHS

C = DuesCategory
ON_TIME, PREPAID, BACK_PAID = (
    PaymentKind.ON_TIME.value,
    PaymentKind.PREPAID.value,
    PaymentKind.BACK_PAID.value,
)
LEDGER_MONTHS = 12
FLUSH_ROWS = 50_000
ZERO = Decimal("0.00")

# Median after-tax monthly income (yuan) of in-service members, and its spread (the sigma of
# a log-normal), by sector: a mid-sized city in the mid-2020s.
INCOME_BY_SECTOR = {
    Sector.GOVERNMENT_ORGAN: (7200, 0.30),
    Sector.PUBLIC_INSTITUTION: (6800, 0.35),
    Sector.STATE_OWNED_ENTERPRISE: (6500, 0.42),
    Sector.NON_PUBLIC_ENTERPRISE: (5800, 0.55),
    Sector.SOCIAL_ORGANIZATION: (4600, 0.45),
    Sector.COMMUNITY: (3800, 0.45),
    Sector.VILLAGE: (3200, 0.40),
    Sector.OTHER: (5000, 0.45),
}
PENSION = (4200, 0.30)  # basic pension: most ≤5000 (0.5%), a third above (1%)
FARMER_AMOUNTS = (("0.20", 3), ("0.30", 2), ("0.50", 4), ("0.60", 1), ("0.80", 1), ("1.00", 3))
# Residents on the roster (no employer): some unemployed, some on relief.
UNEMPLOYED_SHARE, RELIEF_SHARE = 0.12, 0.05
MID_YEAR_SHARE = 0.07  # in-service members whose income changes during the year
REDUCED_SHARE, EXEMPT_SHARE = 0.004, 0.001
# Share of branches whose collection has lapsed, by sector; within one, the share of members
# in arrears. Elsewhere a few scattered members are.
ARREARS_BRANCH_SHARE = {
    Sector.GOVERNMENT_ORGAN: 0.01,
    Sector.PUBLIC_INSTITUTION: 0.02,
    Sector.STATE_OWNED_ENTERPRISE: 0.03,
    Sector.COMMUNITY: 0.05,
    Sector.VILLAGE: 0.08,
    Sector.NON_PUBLIC_ENTERPRISE: 0.12,
    Sector.SOCIAL_ORGANIZATION: 0.10,
    Sector.OTHER: 0.08,
}
ARREARS_IN_BRANCH = 0.3
SCATTERED_WARNING, SCATTERED_FLAG = 0.004, 0.0015
FLAG_OF_ARREARS = 0.4  # of the members in arrears, those six months or more behind
LATE_SHARE = 0.10  # members who paid a month or a few late (back-paid) at least once
PREPAY_SHARE = {Standing.FLOATING: 0.25}  # floating members often pay ahead before leaving
PREPAY_RETIRED, PREPAY_OTHERS = 0.05, 0.012
ONE_BEHIND, TWO_BEHIND = 0.04, 0.01  # not yet paid the last month (or two): no warning yet
ROUND_UP_SHARE = 0.03  # pay a little more than due, to the next yuan

REDUCTION_REASONS = (
    "本人身患重病，长期治疗，家庭经济困难",
    "家庭遭受重大变故，生活困难",
    "长期卧床，无固定收入来源",
    "配偶病重，负担较重",
)
EXEMPTION_REASONS = (
    "身患重病，生活困难，经党支部研究、报上级党委批准免交",
    "享受最低生活保障，生活确有困难",
    "高龄长期卧床，经济困难",
)
BACK_PAY_NOTES = ("外出返回后补交", "出差返回后补交", "住院期间由家属代为补交", "")
MID_YEAR_NOTES = ("岗位变动，收入调整", "职务晋升，收入增加", "更换工作单位", "收入下降，重新申报")
SPECIAL_NOTES = (
    "老党员自愿交纳特殊党费",
    "为支援防汛救灾自愿交纳特殊党费",
    "庆祝建党纪念日自愿交纳特殊党费",
    "随党费一次多交纳",
)
SPECIAL_AMOUNTS = ("1000", "1000", "1000", "2000", "2000", "3000", "5000", "10000")

BASE_FIELDS = (
    "member",
    "year",
    "effective_from",
    "effective_until",
    "category",
    "monthly_income",
    "fixed_amount",
    "declared_by_member",
    "note",
    "reduction",
    "reduced_amount",
    "reduction_reason",
    "reduction_approved_by",
    "reduction_approved_on",
    "entered_by",
)
PAYMENT_FIELDS = (
    "member",
    "month",
    "amount_due",
    "amount_paid",
    "kind",
    "paid_on",
    "recorded_by",
    "note",
)
SPECIAL_FIELDS = ("member", "amount", "date", "payment", "recorded_by", "note")


def index(day: date) -> int:
    """A month as a number: months since year 0 (consecutive months differ by one)."""
    return day.year * 12 + day.month - 1


def month(number: int) -> date:
    return date(number // 12, number % 12 + 1, 1)


def day_in(number: int, day: int) -> date:
    """``day`` of the month ``number``, clamped to its length."""
    year, mon = number // 12, number % 12 + 1
    return date(year, mon, min(day, calendar.monthrange(year, mon)[1]))


@dataclass(eq=False)
class Base:
    start: int  # month number
    category: str
    income: Decimal | None = None
    fixed: Decimal | None = None
    declared: bool = False
    note: str = ""
    reduction: str = ""
    reduced: Decimal | None = None
    reason: str = ""
    approved_on: date | None = None
    due: Decimal = ZERO  # what the base asks for each month (after a reduction)


@dataclass(eq=False)
class Person:
    id: int
    branch: Branch
    occupation: str
    category: str  # the roster's (regional) category
    standing: str
    joined_on: date
    lost_contact_since: date | None
    user_id: int | None  # a demo login's own member record
    start: int  # the first owed month in the ledger (a month number)
    arrears: int = 0  # months unpaid up to L, for members chosen to fall behind

    @property
    def retired(self) -> bool:
        return self.occupation == Occupation.RETIRED or self.category == Category.RETIRED


@dataclass(eq=False)
class Branch:
    id: int
    sector: str
    table: RateTable  # in force under the branch's top-level organization's rules
    exemplary: bool = False
    collection_day: int = 10
    people: list[Person] = field(default_factory=list)


@dataclass
class DuesSummary:
    members: int = 0
    bases: int = 0
    mid_year_bases: int = 0
    payments: int = 0
    back_paid: int = 0
    prepaid: int = 0
    reduced: int = 0
    exempt: int = 0
    special: int = 0
    arrears_branches: int = 0
    warned_members: int = 0  # normal standing, 3–5 consecutive months unpaid up to L
    flagged_members: int = 0  # normal standing, 6 or more


def clear_dues_data() -> None:
    """Delete every dues record. Plain DELETEs: the ORM's would first load every payment
    (special contributions point at them)."""
    with connection.cursor() as cursor:
        for model in (UnpaidRun, SpecialContribution, DuesPayment, DuesBase):
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")


class DuesGenerator:
    def __init__(self, seed: int, today: date):
        self.rng = random.Random(f"dues-{seed}")
        self.today = today
        self.now = index(today)  # today's month
        self.last = self.now - 1  # L, the last completed month
        self.first = self.last - LEDGER_MONTHS + 1  # W, the ledger's first month
        self.january = today.year * 12  # January and December of the current year
        self.december = self.january + 11
        self.warning_months = int(ARREARS_WARNING_MONTHS.default)
        self.flag_months = int(ARREARS_MONTHS.default)
        self.backpay_limit = int(BACKPAY_MONTHS.default)
        self.months = {n: month(n) for n in range(self.first - 1, self.december + 13)}
        self.summary = DuesSummary()
        self.approver_id: int | None = None
        self.clerk_id: int | None = None
        self._forced: dict[int, tuple[str, Decimal]] = {}
        self._relief: dict[int, str] = {}
        self._amounts: dict[Decimal, Decimal] = {}
        self._days: dict[int, date] = {}
        self._bases: list[tuple] = []
        self._payments: list[tuple] = []

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    # -- loading ---------------------------------------------------------------------------

    def load(self, organizations, exemplary: Iterable[int]) -> list[Branch]:
        exemplary = set(exemplary)
        steplen = Organization.steplen
        tables: dict[str, RateTable] = {}
        branches: dict[int, Branch] = {}
        for pk, path, sector in organizations.order_by("path").values_list("id", "path", "sector"):
            root = path[:steplen]
            if root not in tables:
                book = RuleBook.for_root(Organization.objects.filter(path=root).first())
                tables[root] = RateTable.from_rules(book)
            branches[pk] = Branch(pk, sector, tables[root], exemplary=pk in exemplary)
        members = (
            Member.objects.filter(organization__in=organizations, standing__in=ON_ROSTER)
            .order_by("id")
            .values_list(
                "id",
                "organization_id",
                "occupation",
                "category",
                "standing",
                "joined_on",
                "lost_contact_since",
                "user_id",
            )
        )
        for pk, org_id, occupation, category, standing, joined_on, lost, user_id in members:
            branch = branches[org_id]
            start = max(self.first, index(joined_on) + 1)
            branch.people.append(
                Person(pk, branch, occupation, category, standing, joined_on, lost, user_id, start)
            )
        found = [b for b in branches.values() if b.people]
        for branch in found:  # the day the branch's clerk collects the dues
            branch.collection_day = self.rng.randint(3, 25)
        users = dict(
            User.objects.filter(username__in=["quwei_admin", "admin", "branch_clerk"]).values_list(
                "username", "pk"
            )
        )
        # Reductions are approved by the higher committee (报上级党委批准).
        self.approver_id = users.get("quwei_admin", users.get("admin"))
        self.clerk_id = users.get("branch_clerk")
        return found

    # -- who is in arrears -------------------------------------------------------------------

    def owed_months(self, person: Person) -> int:
        """Owed months in the ledger up to L."""
        return max(0, self.last - person.start + 1)

    def can_lapse(self, person: Person, months: int) -> bool:
        return (
            person.standing == Standing.NORMAL
            and person.lost_contact_since is None
            and person.user_id is None
            and not person.arrears
            and self.owed_months(person) >= months
        )

    def lapse(self, person: Person, flagged: bool) -> None:
        """Stop ``person`` paying: 3–5 months up to L (a warning) or 6 or more (the flag)."""
        owed = self.owed_months(person)
        if flagged:
            person.arrears = self.rng.randint(self.flag_months, min(owed, LEDGER_MONTHS))
        else:
            person.arrears = self.rng.randint(self.warning_months, min(owed, self.flag_months - 1))

    def choose_arrears(self, branches: list[Branch]) -> None:
        rng = self.rng
        warn, flag = self.warning_months, self.flag_months
        candidates = [
            b
            for b in branches
            if not b.exemplary and sum(self.can_lapse(p, warn) for p in b.people) >= 2
        ]
        chosen = [b for b in candidates if self.chance(ARREARS_BRANCH_SHARE.get(b.sector, 0.05))]
        if len(chosen) < 2:
            taken = {b.id for b in chosen}
            others = [b for b in candidates if b.id not in taken]
            chosen += rng.sample(others, min(len(others), 2 - len(chosen)))
        chosen.sort(key=lambda b: b.id)
        self.summary.arrears_branches = len(chosen)
        for branch in chosen:
            for person in branch.people:
                if self.can_lapse(person, warn) and self.chance(ARREARS_IN_BRANCH):
                    self.lapse(
                        person, self.can_lapse(person, flag) and self.chance(FLAG_OF_ARREARS)
                    )
        lapsed = {b.id for b in chosen}
        for branch in branches:
            if branch.id in lapsed:
                continue
            if branch.exemplary:  # one member the demo secretary should talk to
                able = [p for p in branch.people if self.can_lapse(p, warn)]
                if able:
                    self.lapse(rng.choice(able), flagged=False)
                continue
            for person in branch.people:
                roll = rng.random()
                if roll < SCATTERED_FLAG and self.can_lapse(person, flag):
                    self.lapse(person, flagged=True)
                elif roll < SCATTERED_FLAG + SCATTERED_WARNING and self.can_lapse(person, warn):
                    self.lapse(person, flagged=False)
        # However small the roster, both kinds show: first in the lapsed branches.
        people = [p for b in chosen for p in b.people] + [
            p for b in branches if b.id not in lapsed and not b.exemplary for p in b.people
        ]
        for flagged, months in ((True, flag), (False, warn)):
            if any((p.arrears >= flag) == flagged for p in people if p.arrears):
                continue
            able = [p for p in people if self.can_lapse(p, months)]
            if able:
                self.lapse(able[0], flagged)

    # -- bases -----------------------------------------------------------------------------

    def amount(self, value: Decimal) -> Decimal:
        """One Decimal object per amount (the city has millions of rows of few amounts)."""
        return self._amounts.setdefault(value, value)

    def income(self, median: float, sigma: float, low: int = 1500) -> Decimal:
        value = max(low, min(60000, self.rng.lognormvariate(math.log(median), sigma)))
        if self.chance(0.6):
            value = round(value / 10) * 10
        return Decimal(f"{value:.2f}")

    def force_brackets(self, people: list[Person]) -> None:
        """A small roster might miss a bracket: one in-service member is put in each of the
        four and one retired member in each of the two (the first base's income)."""
        fixed = (Occupation.FARMER, Occupation.STUDENT, Occupation.OTHER)
        in_service = [p for p in people if not p.retired and p.occupation not in fixed]
        retired = [p for p in people if p.retired]
        for category, group in ((C.IN_SERVICE, in_service), (C.RETIRED, retired)):
            if not group:
                continue
            table = group[0].branch.table
            brackets = table.in_service if category == C.IN_SERVICE else table.retired
            lower = Decimal(0)
            picked = self.rng.sample(group, min(len(group), len(brackets)))
            for person, bracket in zip(picked, brackets, strict=False):
                upper = bracket.upper if bracket.upper is not None else lower * 2
                self._forced[person.id] = (category, to_cents((lower + upper) / 2 + 7))
                lower = upper

    def category(self, person: Person) -> tuple[str, Decimal | None, Decimal | None]:
        """The dues category, income and fixed amount that fit the roster record."""
        rng = self.rng
        if person.id in self._forced:
            category, income = self._forced[person.id]
            return category, income, None
        if person.retired:
            return C.RETIRED, self.income(*PENSION, low=1200), None
        if person.occupation == Occupation.FARMER:
            table = person.branch.table
            amounts, weights = zip(*FARMER_AMOUNTS, strict=True)
            fixed = Decimal(rng.choices(amounts, weights=weights)[0])
            return C.FARMER, None, min(table.farmer_maximum, max(table.farmer_minimum, fixed))
        if person.occupation == Occupation.STUDENT:
            return C.STUDENT, None, None
        if person.occupation == Occupation.OTHER and person.category == Category.RESIDENT:
            roll = rng.random()
            if roll < UNEMPLOYED_SHARE:
                return C.UNEMPLOYED, None, None
            if roll < UNEMPLOYED_SHARE + RELIEF_SHARE:
                return C.RELIEF, None, None
        median, sigma = INCOME_BY_SECTOR.get(person.branch.sector, INCOME_BY_SECTOR[Sector.OTHER])
        if person.occupation == Occupation.OTHER:
            median *= 0.8
        if self.chance(0.01):  # right at a threshold, which belongs to the lower bracket
            return C.IN_SERVICE, Decimal(rng.choice(("3000.00", "5000.00", "10000.00"))), None
        return C.IN_SERVICE, self.income(median, sigma), None

    def due(self, base: Base, table: RateTable) -> Decimal:
        """As :func:`dangjian.dues.services.due_from_base`."""
        if base.reduction == Reduction.EXEMPT:
            return ZERO
        if base.reduction == Reduction.REDUCED:
            return self.amount(to_cents(base.reduced))
        return self.amount(table.monthly(base.category, base.income, base.fixed))

    def bases(self, person: Person) -> list[Base]:
        """Last year's base from the ledger's start (when it begins last year), this year's
        from January (or the first owed month), and for some a second one mid-year."""
        rng = self.rng
        category, income, fixed = self.category(person)
        declared = category in INCOME_CATEGORIES and self.chance(0.7)
        this_year = Base(max(self.january, person.start), category, income, fixed, declared)
        bases = [this_year]
        if person.start < self.january:
            before = income
            if income is not None:
                rise = 0.02 if category == C.RETIRED else rng.choice((0, 0, 0.03, 0.05, 0.08))
                before = Decimal(f"{float(income) / (1 + rise):.2f}")
            bases.insert(0, Base(person.start, category, before, fixed, declared))
        earliest = this_year.start + 1
        if person.id in self._relief:
            self.relieve(person, this_year, self._relief[person.id])
        elif category == C.IN_SERVICE and earliest <= self.last and self.chance(MID_YEAR_SHARE):
            factor = rng.uniform(1.1, 1.35) if self.chance(0.7) else rng.uniform(0.7, 0.9)
            bases.append(
                Base(
                    rng.randint(earliest, self.last),
                    category,
                    Decimal(f"{float(income) * factor:.2f}"),
                    declared=True,
                    note=rng.choice(MID_YEAR_NOTES) + "，重新申报",
                )
            )
            self.summary.mid_year_bases += 1
        for base in bases:
            base.due = self.due(base, person.branch.table)
        return bases

    def choose_relief(self, people: list[Person]) -> None:
        """The few members with an approved reduction (retired or in service) or exemption
        (retired or farmers) of this year's base; at least one of each."""
        able = [p for p in people if not p.arrears and p.user_id is None]
        exempt = [p for p in able if p.retired or p.occupation == Occupation.FARMER]
        count = min(len(exempt), max(1, round(EXEMPT_SHARE * len(able))))
        self._relief = dict.fromkeys(
            (p.id for p in self.rng.sample(exempt, count)), Reduction.EXEMPT
        )
        fixed = (Occupation.FARMER, Occupation.STUDENT, Occupation.OTHER)
        reduced = [
            p for p in able if p.id not in self._relief and (p.retired or p.occupation not in fixed)
        ]
        count = min(len(reduced), max(1, round(REDUCED_SHARE * len(able))))
        chosen = self.rng.sample(reduced, count)
        self._relief.update(dict.fromkeys((p.id for p in chosen), Reduction.REDUCED))

    def relieve(self, person: Person, base: Base, kind: str) -> None:
        """Approve the reduction or exemption ``kind`` of ``base``."""
        rng = self.rng
        if kind == Reduction.EXEMPT:
            base.reduction, base.reason = Reduction.EXEMPT, rng.choice(EXEMPTION_REASONS)
            self.summary.exempt += 1
        else:
            full = self.due(base, person.branch.table)
            base.reduction, base.reason = Reduction.REDUCED, rng.choice(REDUCTION_REASONS)
            base.reduced = to_cents(full * Decimal(rng.choice(("0.2", "0.3", "0.5"))))
            self.summary.reduced += 1
        # Studied by the branch and approved by the higher committee before it applies.
        approved = self.months[base.start] - timedelta(days=rng.randint(3, 25))
        base.approved_on = min(self.today, max(person.joined_on, approved))

    # -- payments --------------------------------------------------------------------------

    def pay_day(self, person: Person, number: int) -> date:
        """A day of month ``number``: the branch's collection day or, for three in ten, one
        to five days later (never after today)."""
        roll = self.rng.random()
        day = person.branch.collection_day + (1 + int(roll / 0.3 * 5) if roll < 0.3 else 0)
        key = number * 32 + day
        paid = self._days.get(key)
        if paid is None:
            paid = self._days[key] = min(day_in(number, day), self.today)
        return paid

    def plan(self, person: Person, bases: list[Base]) -> dict[int, tuple[str, date, str]]:
        """month number → (kind, paid on, note) for every month paid."""
        rng = self.rng
        start, last = person.start, self.last
        if person.arrears:
            unpaid_from = last - person.arrears + 1
        elif person.lost_contact_since is not None:
            unpaid_from = max(start, index(person.lost_contact_since))
        else:
            unpaid_from = last + 1
            if person.user_id is None:  # the last month or two not paid yet
                roll = rng.random()
                if roll < TWO_BEHIND and last - start >= 2:
                    unpaid_from = last - 1
                elif roll < TWO_BEHIND + ONE_BEHIND and last - start >= 1:
                    unpaid_from = last
        paid = {n: (ON_TIME, self.pay_day(person, n), "") for n in range(start, unpaid_from)}
        # Now and then a month or a few paid late, within the months allowed, by today and,
        # for those who have since fallen behind, before that.
        if paid and rng.random() < LATE_SHARE:
            length = rng.choice((1, 1, 1, 2, 2, 3))
            first = rng.randint(start, max(start, unpaid_from - length))
            end = min(first + length, unpaid_from)
            on = end - 1 + rng.choice((1, 1, 1, 2, 3))
            if (
                on - first <= self.backpay_limit
                and on <= self.now
                and (unpaid_from > last or on < unpaid_from)
            ):
                note, paid_on = rng.choice(BACK_PAY_NOTES), self.pay_day(person, on)
                for number in range(first, end):
                    paid[number] = (BACK_PAID, paid_on, note)
        # A few pay the rest of the year ahead: not those behind, reduced or with a change.
        steady = unpaid_from > last and all(not b.reduction for b in bases)
        this_year = max(self.january, start)
        if steady and bases[-1].start == this_year and this_year <= self.now:
            if bases[-1].category == C.RETIRED:
                share = PREPAY_RETIRED
            else:
                share = PREPAY_SHARE.get(person.standing, PREPAY_OTHERS)
            if rng.random() < share:
                on = rng.randint(this_year, self.now)
                if on < self.december:
                    paid_on = self.pay_day(person, on)
                    paid[on] = (ON_TIME, paid_on, "")
                    for number in range(on + 1, self.december + 1):
                        paid[number] = (PREPAID, paid_on, "预交至本年12月")
        return paid

    def member_rows(self, person: Person) -> None:
        bases = self.bases(person)
        clerk = self.clerk_id if person.branch.exemplary else None
        for base, following in zip(bases, [*bases[1:], None], strict=True):
            self._bases.append(
                (
                    person.id,
                    base.start // 12,
                    self.months[base.start],
                    self.months[following.start] if following else None,
                    base.category,
                    base.income,
                    base.fixed,
                    base.declared,
                    base.note,
                    base.reduction,
                    base.reduced,
                    base.reason,
                    self.approver_id if base.reduction else None,
                    base.approved_on,
                    clerk,
                )
            )
        self.summary.bases += len(bases)
        plan = self.plan(person, bases)
        round_up = self.rng.random() < ROUND_UP_SHARE
        last_paid = person.start - 1  # P of dangjian.dues.flags
        in_force, count = 0, len(bases)
        for number in sorted(plan):
            while in_force + 1 < count and bases[in_force + 1].start <= number:
                in_force += 1
            base = bases[in_force]
            if base.reduction == Reduction.EXEMPT:
                continue  # nothing is owed
            kind, paid_on, note = plan[number]
            due = paid = base.due
            if round_up and due >= 5:
                paid = self.amount(Decimal(math.ceil(due)).quantize(CENT))
            self._payments.append(
                (person.id, self.months[number], due, paid, kind, paid_on, clerk, note)
            )
            if number <= self.last:
                last_paid = number
            if kind == BACK_PAID:
                self.summary.back_paid += 1
            elif kind == PREPAID:
                self.summary.prepaid += 1
        # What the arrears flags will find.
        at_last = [b for b in bases if b.start <= self.last]
        exempt = bool(at_last) and at_last[-1].reduction == Reduction.EXEMPT
        if person.standing == Standing.NORMAL and not exempt:
            behind = self.last - last_paid
            if behind >= self.flag_months:
                self.summary.flagged_members += 1
            elif behind >= self.warning_months:
                self.summary.warned_members += 1
        if len(self._payments) >= FLUSH_ROWS:
            self.flush()

    def flush(self) -> None:
        insert_rows(DuesBase, BASE_FIELDS, self._bases)
        insert_rows(DuesPayment, PAYMENT_FIELDS, self._payments)
        self.summary.payments += len(self._payments)
        self._bases, self._payments = [], []

    # -- special contributions -------------------------------------------------------------

    def special_contributions(self, people: list[Person]) -> None:
        """A handful of members give 1000 yuan or more at once: some with a month's dues
        (the payment keeps what was due, the rest is the contribution), some apart."""
        able = [
            p
            for p in people
            if not p.arrears
            and p.lost_contact_since is None
            and p.start <= self.last
            and p.occupation != Occupation.STUDENT
        ]
        if not able:
            return
        count = min(len(able), max(3, min(60, round(len(people) / 5000))))
        chosen = sorted(self.rng.sample(able, count), key=lambda p: p.id)
        payments: dict[int, list[tuple[int, date]]] = {}
        rows = (
            DuesPayment.objects.filter(
                member_id__in=[p.id for p in chosen], month__lte=self.months[self.last]
            )
            .order_by("member_id", "month")
            .values_list("member_id", "id", "paid_on")
        )
        for member_id, pk, paid_on in rows:
            payments.setdefault(member_id, []).append((pk, paid_on))
        contributions = []
        for number, person in enumerate(chosen):
            amount = Decimal(self.rng.choice(SPECIAL_AMOUNTS))
            clerk = self.clerk_id if person.branch.exemplary else None
            if number % 2 == 0 and person.id in payments:
                payment_id, paid_on = self.rng.choice(payments[person.id])
                row = (person.id, amount, paid_on, payment_id, clerk, SPECIAL_NOTES[-1])
            else:
                on = self.months[self.rng.randint(person.start, self.last)]
                on += timedelta(days=self.rng.randint(0, 27))
                row = (person.id, amount, on, None, clerk, self.rng.choice(SPECIAL_NOTES[:-1]))
            contributions.append(row)
        insert_rows(SpecialContribution, SPECIAL_FIELDS, contributions)
        self.summary.special = len(contributions)

    # -- putting it together ---------------------------------------------------------------

    def run(self, organizations, exemplary: Iterable[int] = ()) -> DuesSummary:
        """Write the dues of every member on the rosters of ``organizations`` (a queryset).

        ``exemplary``: ids of branches kept out of the lapsed ones (the demo logins' one).
        """
        branches = self.load(organizations, exemplary)
        self.choose_arrears(branches)
        people = sorted((p for b in branches for p in b.people), key=lambda p: p.id)
        self.summary.members = len(people)
        self.force_brackets(people)
        self.choose_relief(people)
        for person in people:
            self.member_rows(person)
        self.flush()
        refresh_unpaid_runs()
        self.special_contributions(people)
        return self.summary
