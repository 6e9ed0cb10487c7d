"""Members in arrears with their dues: warned from 3 consecutive unpaid months, flagged at 6
(党章 art.9: six consecutive months without paying dues, without good reason, is treated as
leaving the party). One query over the subtree each.

Definition. A month is *owed* from the month after the member's 入党日期 (``joined_on``,
the branch meeting admitting them as probationary), and not before the member's first dues
base: the ledger starts when dues are set in the system (members with no base are not
flagged, or every member would be in arrears the day the system is adopted). A month under
an approved exemption (the base in force that month is ``Reduction.EXEMPT``) is not owed
either: nothing is due and no payment row is written for it. A month is *unpaid* if it is
owed and has no DuesPayment row. The run of consecutive unpaid months counted is the one
ending at the last completed month L (the month before today's). It begins after P, the
latest of:

* the last paid month ≤ L (if any);
* the month before the first owed month (the month of ``joined_on``);
* the month before the member's first base;
* the last month of the latest exempt period that began at or before L: the month before
  the next non-exempt base after it (an exemption still in force at L leaves the member out
  altogether, see below).

So unpaid = months(P → L), and

* flagged  (≥6):  P ≤ L − 6 months;
* warning (3–5):  L − 6 months < P ≤ L − 3 months.

Months paid in advance beyond L do not count (only payments for months ≤ L are looked at).
Members on the roster in normal standing only (the floating and lost-contact have their own
flags); a member whose base in force at L is an approved exemption owes nothing and is left
out.

How it is computed. The dues services keep each member's *unpaid runs* (:class:`UnpaidRun`,
:mod:`dangjian.dues.derived`): the maximal runs of months from the first base on that are
neither paid nor exempt. If L lies in one of them, the latest of the candidates above other
than the month of ``joined_on`` (the last paid month ≤ L, the month before the first base,
the end of the latest exempt period begun by L) is the month before that run; if L lies in
none, L is paid or exempt or there is no base, and the member is not in arrears. So P ≤ m
holds exactly when the member joined before m + 1 and one of their runs holds every month
from m + 1 to L: one indexed range of the runs, with no search of any member's ledger.
"""

from django.db.models import OuterRef, Q, Subquery
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from dangjian.core.flags import Flag, FlagContext, register
from dangjian.members.choices import Standing
from dangjian.members.models import Member
from dangjian.organizations.services import add_months, months_between

from .models import UnpaidRun
from .rules import ARREARS_MONTHS, ARREARS_WARNING_MONTHS


def last_completed_month(today):
    return add_months(today.replace(day=1), -1)


def members_in_arrears(ctx: FlagContext, at_most, after=None):
    """Members whose P (see the module's definition) is ≤ ``at_most`` and, if given,
    > ``after``. Annotated with ``unpaid_from``, the first month of their run of unpaid
    months holding L."""
    last = last_completed_month(ctx.today)
    run = UnpaidRun.objects.filter(member=OuterRef("pk")).spanning(last, last).order_by()
    return (
        Member.objects.filter(
            arrears_between(last, at_most, after),
            organization__in=ctx.organizations.active(),
            standing=Standing.NORMAL,
        )
        .annotate(unpaid_from=Subquery(run.values("first_month")[:1]))
        .select_related("organization")
        .order_by("organization__path", "name")
    )


def arrears_between(last, at_most, after=None) -> Q:
    """P ≤ ``at_most`` (and > ``after``), as a condition on Member. P is the later of the month
    of ``joined_on`` and the month before the member's run holding L (they have one at most):
    P ≤ m when they joined before m + 1 and that run began by m + 1; then P > a when the run
    began after a + 1, or it began by then but they joined since. The members are listed
    (``IN``) from the runs' index, so that the planners look up only them; the two ways of
    P > a are two such lists (disjoint, UNION ALL), as an OR of a run's column and a member's
    would have PostgreSQL read every member."""
    following = add_months(at_most, 1)
    runs = UnpaidRun.objects.spanning(following, last)
    if after is not None:
        since = add_months(after, 1)
        joined_since = Member.objects.filter(joined_on__gte=since).values("pk")
        began_earlier = UnpaidRun.objects.spanning(since, last).filter(member__in=joined_since)
        runs = (
            runs.filter(first_month__gt=since)
            .order_by()
            .values("member_id")
            .union(began_earlier.order_by().values("member_id"), all=True)
        )
    return Q(joined_on__lt=following, pk__in=runs.values("member_id"))


def last_paid_month(member):
    """P for one member of :func:`members_in_arrears` (see the module's definition)."""
    return max(member.joined_on.replace(day=1), add_months(member.unpaid_from, -1))


def unpaid_months(member, ctx) -> int:
    last = last_completed_month(ctx.today)
    return months_between(last_paid_month(member), last)


def describe_arrears(member, ctx):
    months = unpaid_months(member, ctx)
    first_unpaid = add_months(last_paid_month(member), 1)
    return _("自%(month)s起连续%(n)d个月未交纳党费") % {
        "month": f"{first_unpaid:%Y年%m月}",
        "n": months,
    }


@register
class DuesArrears(Flag):
    key = "dues_arrears"
    label = gettext_lazy("连续6个月不交纳党费的党员")
    citation = ARREARS_MONTHS.citation
    severity = "danger"
    order = 94

    def queryset(self, ctx: FlagContext):
        last = last_completed_month(ctx.today)
        flag = add_months(last, -int(ctx.rules[ARREARS_MONTHS.key]))
        return members_in_arrears(ctx, at_most=flag)

    def describe(self, obj, ctx):
        return describe_arrears(obj, ctx)


@register
class DuesArrearsWarning(Flag):
    key = "dues_arrears_warning"
    label = gettext_lazy("连续3个月以上未交纳党费的党员（提醒）")
    citation = ARREARS_WARNING_MONTHS.citation
    order = 95

    def queryset(self, ctx: FlagContext):
        last = last_completed_month(ctx.today)
        warn = add_months(last, -int(ctx.rules[ARREARS_WARNING_MONTHS.key]))
        flag = add_months(last, -int(ctx.rules[ARREARS_MONTHS.key]))
        return members_in_arrears(ctx, at_most=warn, after=flag)

    def describe(self, obj, ctx):
        return describe_arrears(obj, ctx)
