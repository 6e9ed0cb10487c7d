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

P ≤ m holds when each of the four is ≤ m; each is an EXISTS, a column or an annotation of
the member, so the test is one WHERE clause, with no loop over members.

Months paid in advance beyond L do not count (only payments for months ≤ L are looked at).
Members on the roster in normal standing only (the floating and lost-contact have their own
flags); a member whose base in force at L is an approved exemption owes nothing and is left
out.
"""

from django.db.models import DateField, Exists, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce, TruncMonth
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from dangjian.core.flags import Flag, FlagContext, register
from dangjian.members.choices import Standing
from dangjian.members.models import Member
from dangjian.organizations.services import add_months, months_between

from .models import DuesBase, DuesPayment, Reduction
from .rules import ARREARS_MONTHS, ARREARS_WARNING_MONTHS


def last_completed_month(today):
    return add_months(today.replace(day=1), -1)


def members_in_arrears(ctx: FlagContext, at_most, after=None):
    """Members whose P (see the module's definition) is ≤ ``at_most`` and, if given,
    > ``after``. Annotated with ``last_payment`` (None when nothing is paid),
    ``joined_month``, ``first_base`` (the month the ledger starts for them) and
    ``exempt_until`` (the first month after their latest exempt period begun by L; None
    without one)."""
    last = last_completed_month(ctx.today)
    last_payment = (
        DuesPayment.objects.filter(member=OuterRef("pk"), month__lte=last)
        .order_by("-month")
        .values("month")[:1]
    )
    first_base = (
        DuesBase.objects.filter(member=OuterRef("pk"))
        .order_by("effective_from")
        .values("effective_from")[:1]
    )
    base_at_last = (
        DuesBase.objects.filter(member=OuterRef("pk"), effective_from__lte=last)
        .order_by("-effective_from")
        .values("reduction")[:1]
    )
    # The first non-exempt base after an exempt one: where that exemption ends.
    next_owing_base = (
        DuesBase.objects.filter(
            member=OuterRef("member"), effective_from__gt=OuterRef("effective_from")
        )
        .exclude(reduction=Reduction.EXEMPT)
        .order_by("effective_from")
        .values("effective_from")[:1]
    )
    exempt_until = (
        DuesBase.objects.filter(
            member=OuterRef("pk"), reduction=Reduction.EXEMPT, effective_from__lte=last
        )
        .order_by("-effective_from")
        .annotate(until=Subquery(next_owing_base, output_field=DateField()))
        .values("until")[:1]
    )
    members = (
        Member.objects.filter(organization__in=ctx.organizations.active(), standing=Standing.NORMAL)
        .annotate(
            last_payment=Subquery(last_payment, output_field=DateField()),
            first_base=Subquery(first_base, output_field=DateField()),
            joined_month=TruncMonth("joined_on", output_field=DateField()),
            reduction_at_last=Coalesce(Subquery(base_at_last), Value("")),
            exempt_until=Subquery(exempt_until, output_field=DateField()),
        )
        # No base yet: the ledger has not started for the member, nothing can be in arrears.
        .filter(Exists(DuesBase.objects.filter(member=OuterRef("pk"))))
        .exclude(reduction_at_last=Reduction.EXEMPT)
        .filter(unpaid_since_at_most(at_most, last))
    )
    if after is not None:
        members = members.exclude(unpaid_since_at_most(after, last))
    return members.select_related("organization").order_by("organization__path", "name")


def unpaid_since_at_most(month, last) -> Q:
    """P ≤ ``month``: each month P is the latest of is ≤ ``month``. No payment for a month
    after m up to L (so the last paid month, if any, is ≤ m); joined before m + 1; a base
    beginning in or before m + 1 (the month before the first base is ≤ m); the last exempt
    month (if any) ≤ m, i.e. the exemption ended by m + 1. The first three are written on
    the member's own columns and indexed lookups rather than on the annotations, so that the
    count (which drops the annotations it does not filter on) stays cheap over a city. Every
    term is true or false, never NULL, so that the warning's ``exclude`` of this condition is
    its exact complement."""
    following = add_months(month, 1)
    paid_after = DuesPayment.objects.filter(member=OuterRef("pk"), month__gt=month, month__lte=last)
    based_by = DuesBase.objects.filter(member=OuterRef("pk"), effective_from__lte=following)
    return (
        ~Exists(paid_after)
        & Q(joined_on__lt=following)
        & Exists(based_by)
        & (Q(exempt_until__isnull=True) | Q(exempt_until__lte=following))
    )


def last_paid_month(member):
    """P for one annotated member (see the module's definition)."""
    candidates = [member.joined_month, add_months(member.first_base, -1)]
    if member.last_payment is not None:
        candidates.append(member.last_payment)
    if member.exempt_until is not None:
        candidates.append(add_months(member.exempt_until, -1))
    return max(candidates)


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
