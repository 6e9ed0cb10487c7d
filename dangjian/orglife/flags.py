"""Members who have not taken part in organizational life: flagged at 6 months (党章 art.9),
warned from 3. One query over the subtree each."""

from datetime import timedelta

from django.db.models import DateField, F
from django.db.models.functions import Cast, Coalesce
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from dangjian.core.flags import Flag, FlagContext, register
from dangjian.members.choices import Standing
from dangjian.members.models import Member
from dangjian.organizations.services import add_months

from .rules import ABSENCE_WARNING_MONTHS, ABSENT_MONTHS


def members_absent_since(ctx: FlagContext, cutoff, until=None):
    """Members on the roster (not floating or lost) whose last organizational life — or,
    with none recorded, their arrival on the roster — lies before ``cutoff``."""
    members = (
        Member.objects.filter(organization__in=ctx.organizations.active(), standing=Standing.NORMAL)
        .alias(
            last_seen=Coalesce("last_participated_on", Cast("created_at", output_field=DateField()))
        )
        .filter(last_seen__lt=cutoff)
    )
    if until is not None:
        members = members.filter(last_seen__gte=until)
    return members.select_related("organization").annotate(seen=F("last_participated_on"))


def describe_absence(member, ctx):
    if member.last_participated_on is None:
        return _("入册以来未参加组织生活")
    months = (ctx.today - member.last_participated_on) // timedelta(days=30)
    return _("最近一次参加组织生活：%(day)s（约%(n)d个月前）") % {
        "day": member.last_participated_on.isoformat(),
        "n": months,
    }


@register
class AbsentFromOrganizationalLife(Flag):
    key = "absent_from_life"
    label = gettext_lazy("连续6个月未参加组织生活的党员")
    citation = ABSENT_MONTHS.citation
    severity = "danger"
    order = 92

    def queryset(self, ctx: FlagContext):
        cutoff = add_months(ctx.today, -int(ctx.rules[ABSENT_MONTHS.key]))
        return members_absent_since(ctx, cutoff).order_by("organization__path", "name")

    def describe(self, obj, ctx):
        return describe_absence(obj, ctx)


@register
class AbsenceWarning(Flag):
    key = "absence_warning"
    label = gettext_lazy("连续3个月以上未参加组织生活的党员（提醒）")
    citation = ABSENCE_WARNING_MONTHS.citation
    order = 93

    def queryset(self, ctx: FlagContext):
        warn = add_months(ctx.today, -int(ctx.rules[ABSENCE_WARNING_MONTHS.key]))
        flag = add_months(ctx.today, -int(ctx.rules[ABSENT_MONTHS.key]))
        return members_absent_since(ctx, warn, until=flag).order_by("organization__path", "name")

    def describe(self, obj, ctx):
        return describe_absence(obj, ctx)
