"""Development steps due or overdue, and branches that have developed nobody for 3 years.

Each flag is one query over the subtree; the step flags carry the date the step is due by
(``due_of``), which the monthly reminder list shows. A step flag is raised from the day the
step becomes due within the lead months (``development.reminder_lead_months``), so the
reminder comes before the deadline, and stays until the step is recorded.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Coalesce, Greatest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from dangjian.core.flags import Flag, FlagContext, register
from dangjian.members.models import Member
from dangjian.organizations.services import add_months

from . import rules, steps
from .models import DevelopmentRecord, Outcome
from .services import DEVELOPING_TYPES
from .steps import Stage


def open_records(ctx: FlagContext):
    return DevelopmentRecord.objects.filter(
        organization__in=ctx.organizations.active(), outcome=Outcome.OPEN
    ).select_related("organization")


def _months(ctx, rule) -> int:
    return int(ctx.rules[rule.key])


def _when(due, ctx) -> str:
    if due < ctx.today:
        return _("应于%(due)s前完成，已超期%(days)d天") % {
            "due": due.isoformat(),
            "days": (ctx.today - due).days,
        }
    return _("应于%(due)s前完成") % {"due": due.isoformat()}


class StepFlag(Flag):
    """A step due by a date computed from the record."""

    def due_of(self, record):
        raise NotImplementedError

    def describe(self, obj, ctx):
        return _when(self.due_of(obj), ctx)


@register
class TalkDue(StepFlag):
    key = "development_talk_due"
    label = gettext_lazy("入党申请人谈话待办（收到申请书后1个月内）")
    citation = rules.TALK_WITHIN_MONTHS.citation
    order = 70

    def queryset(self, ctx):
        return open_records(ctx).filter(step=steps.APPLICATION).order_by("applied_on", "pk")

    def due_of(self, record):
        return add_months(record.applied_on, int(rules.TALK_WITHIN_MONTHS.default))


@register
class AssessmentDue(StepFlag):
    """Activists, candidates and probationary members are assessed every half year: due six
    months after the last assessment (or after becoming activist / being admitted)."""

    key = "development_assessment_due"
    label = gettext_lazy("入党积极分子、预备党员半年考察到期")
    citation = rules.ASSESSMENT_INTERVAL_MONTHS.citation
    order = 71

    def queryset(self, ctx):
        interval = _months(ctx, rules.ASSESSMENT_INTERVAL_MONTHS)
        lead = _months(ctx, rules.REMINDER_LEAD_MONTHS)
        cutoff = add_months(add_months(ctx.today, lead), -interval)
        activist = Q(stage__in=[Stage.ACTIVIST, Stage.CANDIDATE], step__gte=steps.ACTIVIST)
        # a candidate is assessed until the branch meeting admits them
        activist &= Q(step__lt=steps.ADMISSION_MEETING)
        probationary = Q(stage=Stage.PROBATIONARY, step__lt=steps.CONVERSION_MEETING)
        return (
            open_records(ctx)
            .filter(activist | probationary)
            .annotate(
                # Neither argument is NULL unless all three dates are: GREATEST skips NULLs
                # on PostgreSQL but is NULL with any on SQLite, and the flag must not depend
                # on the database (a probationary member recorded without an activist date).
                assessed_from=Greatest(
                    Coalesce("last_assessed_on", "activist_on", "admitted_on"),
                    Coalesce("admitted_on", "activist_on", "last_assessed_on"),
                )
            )
            .filter(assessed_from__lte=cutoff)
            .order_by("assessed_from", "pk")
        )

    def due_of(self, record):
        since = max(
            d for d in (record.last_assessed_on, record.activist_on, record.admitted_on) if d
        )
        return add_months(since, int(rules.ASSESSMENT_INTERVAL_MONTHS.default))


@register
class ApprovalPending(StepFlag):
    key = "development_approval_pending"
    label = gettext_lazy("支部大会已通过、待上级党委审批的发展对象（3个月内）")
    citation = rules.APPROVAL_MONTHS.citation
    severity = "danger"
    order = 72

    def queryset(self, ctx):
        return (
            open_records(ctx)
            .filter(step__gte=steps.ADMISSION_MEETING, step__lt=steps.APPROVAL)
            .order_by("admitted_on", "pk")
        )

    def due_of(self, record):
        return add_months(record.admitted_on, int(rules.APPROVAL_MONTHS.default))


@register
class ProbationEnding(StepFlag):
    key = "development_probation_ending"
    label = gettext_lazy("预备期即将期满或已满、待支部大会讨论转正的预备党员")
    citation = rules.PROBATION_MONTHS.citation
    order = 73

    def queryset(self, ctx):
        lead = _months(ctx, rules.REMINDER_LEAD_MONTHS)
        return (
            open_records(ctx)
            .filter(stage=Stage.PROBATIONARY, step__lt=steps.CONVERSION_MEETING)
            .filter(probation_ends_on__lte=add_months(ctx.today, lead))
            .order_by("probation_ends_on", "pk")
        )

    def due_of(self, record):
        return record.probation_ends_on

    def describe(self, obj, ctx):
        if obj.probation_ends_on <= ctx.today:
            return _("预备期已于%(day)s期满，应及时召开支部大会讨论其能否转正") % {
                "day": obj.probation_ends_on.isoformat()
            }
        return _("预备期%(day)s期满") % {"day": obj.probation_ends_on.isoformat()}


@register
class ConversionPending(StepFlag):
    key = "development_conversion_pending"
    label = gettext_lazy("支部大会已讨论转正、待上级党委审批的预备党员（3个月内）")
    citation = rules.CONVERSION_APPROVAL_MONTHS.citation
    severity = "danger"
    order = 74

    def queryset(self, ctx):
        return (
            open_records(ctx)
            .filter(step__gte=steps.CONVERSION_MEETING, step__lt=steps.CONVERSION_APPROVAL)
            .order_by("conversion_meeting_on", "pk")
        )

    def due_of(self, record):
        return add_months(
            record.conversion_meeting_on, int(rules.CONVERSION_APPROVAL_MONTHS.default)
        )


@register
class NoNewMember(Flag):
    """Branches that admitted nobody in the last 3 years (a branch founded less than 3 years
    ago is not flagged): neither a member on its roster who joined since, nor a development
    record it admitted since."""

    key = "no_new_member"
    label = gettext_lazy("连续3年以上未发展党员的党支部")
    citation = rules.NO_NEW_MEMBER_YEARS.citation
    order = 60

    def cutoff(self, ctx):
        return add_months(ctx.today, -12 * _months(ctx, rules.NO_NEW_MEMBER_YEARS))

    def queryset(self, ctx):
        cutoff = self.cutoff(ctx)
        joined = Member.objects.filter(organization=OuterRef("pk"), joined_on__gte=cutoff)
        admitted = DevelopmentRecord.objects.filter(
            organization=OuterRef("pk"), admitted_on__gte=cutoff
        )
        return (
            ctx.organizations.active()
            .filter(org_type__in=DEVELOPING_TYPES)
            .filter(Q(founded_on__isnull=True) | Q(founded_on__lte=cutoff))
            .filter(~Exists(joined), ~Exists(admitted))
            .order_by("path")
        )

    def describe(self, obj, ctx):
        return _("%(day)s以来未发展党员") % {"day": self.cutoff(ctx).isoformat()}
