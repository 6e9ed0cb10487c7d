"""Flags about organizations. Each is one query for the whole subtree in scope."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, Subquery
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from dangjian.core.flags import Flag, FlagContext, register

from .models import (
    BRANCH_TYPES,
    ORGANIZATION_COVERAGE,
    SIX_HAVES,
    CommitteeMember,
    CommitteePost,
    NewOrganization,
    Sector,
    VillageIncome,
)
from .rules import (
    BRANCH_MIN_MEMBERS,
    COMMUNITY_PREMISES_MIN_AREA,
    ELECTED_TYPES,
    SECRETARY_REQUIRED_TYPES,
    TERM_CITATION,
    TERM_WARNING_MONTHS,
    VILLAGE_HOLLOW_INCOME,
)
from .services import add_months

SIX_HAVE_FIELDS = [field for field, _label in SIX_HAVES]


# The conditions of the term and secretary flags, also counted by the statistics
# (dangjian/reports/organizations.py), so a table's count is the flag's.
def term_overdue_q(today) -> Q:
    return Q(org_type__in=ELECTED_TYPES, term_due_on__lt=today)


def term_due_soon_q(today, horizon) -> Q:
    return Q(org_type__in=ELECTED_TYPES, term_due_on__gte=today, term_due_on__lte=horizon)


def term_unrecorded_q() -> Q:
    return Q(org_type__in=ELECTED_TYPES, term_started_on__isnull=True)


def has_secretary() -> Exists:
    """Whether the organization (the outer row) has a secretary in office."""
    return Exists(
        CommitteeMember.objects.filter(
            organization=OuterRef("pk"), post=CommitteePost.SECRETARY, ended_on__isnull=True
        )
    )


def term_horizon(today, rules):
    """The last day a term due counts as due soon."""
    return add_months(today, int(rules[TERM_WARNING_MONTHS.key]))


@register
class TermOverdue(Flag):
    key = "term_overdue"
    label = gettext_lazy("任期已届满未换届")
    citation = TERM_CITATION
    severity = "danger"
    order = 10

    def queryset(self, ctx: FlagContext):
        return (
            ctx.organizations.active()
            .filter(term_overdue_q(ctx.today))
            .order_by("term_due_on", "path")
        )

    def describe(self, obj, ctx):
        return _("届满日期 %(due)s，已超期 %(days)d 天") % {
            "due": obj.term_due_on.isoformat(),
            "days": (ctx.today - obj.term_due_on).days,
        }


@register
class TermDueSoon(Flag):
    key = "term_due_soon"
    label = gettext_lazy("任期即将届满，需准备换届")
    citation = TERM_CITATION
    order = 20

    def queryset(self, ctx: FlagContext):
        horizon = term_horizon(ctx.today, ctx.rules)
        return (
            ctx.organizations.active()
            .filter(term_due_soon_q(ctx.today, horizon))
            .order_by("term_due_on", "path")
        )

    def describe(self, obj, ctx):
        return _("届满日期 %(due)s，还有 %(days)d 天") % {
            "due": obj.term_due_on.isoformat(),
            "days": (obj.term_due_on - ctx.today).days,
        }


@register
class TermUnrecorded(Flag):
    key = "term_unrecorded"
    label = gettext_lazy("未登记本届任期")
    citation = TERM_CITATION
    order = 30

    def queryset(self, ctx: FlagContext):
        return ctx.organizations.active().filter(term_unrecorded_q())

    def describe(self, obj, ctx):
        return _("请登记本届选举日期")


@register
class SecretaryMissing(Flag):
    key = "secretary_missing"
    label = gettext_lazy("班子不健全：未配备书记")
    citation = gettext_lazy("《中国共产党支部工作条例（试行）》第六章 党支部委员会建设")
    severity = "danger"
    order = 40

    def queryset(self, ctx: FlagContext):
        return (
            ctx.organizations.active()
            .filter(org_type__in=SECRETARY_REQUIRED_TYPES)
            .filter(~has_secretary())
        )

    def describe(self, obj, ctx):
        return _("当前班子中没有在任书记")


@register
class CommunityPremisesBelow(Flag):
    key = "community_premises_below"
    label = gettext_lazy("社区办公服务场所面积不达标")
    citation = COMMUNITY_PREMISES_MIN_AREA.citation
    order = 50

    def queryset(self, ctx: FlagContext):
        minimum = ctx.rules[COMMUNITY_PREMISES_MIN_AREA.key]
        return (
            ctx.organizations.active()
            .filter(sector=Sector.COMMUNITY)
            .unit_tops()
            .filter(Q(premises_area__isnull=True) | Q(premises_area__lt=minimum))
        )

    def describe(self, obj, ctx):
        minimum = ctx.rules[COMMUNITY_PREMISES_MIN_AREA.key]
        if obj.premises_area is None:
            return _("未登记场所面积（标准不少于 %(min)s 平方米）") % {"min": minimum}
        return _("场所面积 %(area)s 平方米，低于 %(min)s 平方米") % {
            "area": obj.premises_area,
            "min": minimum,
        }


@register
class HollowVillage(Flag):
    key = "hollow_village"
    label = gettext_lazy("集体经济“空壳村”")
    citation = VILLAGE_HOLLOW_INCOME.citation
    order = 60

    def queryset(self, ctx: FlagContext):
        year = ctx.today.year - 1
        threshold = ctx.rules[VILLAGE_HOLLOW_INCOME.key]
        income = VillageIncome.objects.filter(organization=OuterRef("pk"), year=year).values(
            "amount"
        )[:1]
        return (
            ctx.organizations.active()
            .filter(sector=Sector.VILLAGE)
            .unit_tops()
            .annotate(last_year_income=Subquery(income))
            .filter(Q(last_year_income__isnull=True) | Q(last_year_income__lt=threshold))
        )

    def describe(self, obj, ctx):
        year = ctx.today.year - 1
        threshold = ctx.rules[VILLAGE_HOLLOW_INCOME.key]
        if obj.last_year_income is None:
            return _("未登记 %(year)d 年集体经济收入") % {"year": year}
        return _("%(year)d 年集体经济收入 %(amount)s 元，低于 %(min)s 元") % {
            "year": year,
            "amount": obj.last_year_income,
            "min": threshold,
        }


@register
class UncoveredNewOrganization(Flag):
    key = "uncovered_new_organization"
    label = gettext_lazy("有3名以上党员的两新组织尚未建立党组织")
    citation = BRANCH_MIN_MEMBERS.citation
    severity = "danger"
    order = 70

    def queryset(self, ctx: FlagContext):
        return (
            # Work coverage (an instructor, a mass organization) does not replace a branch
            # where there are three members to form one.
            NewOrganization.objects.filter(
                area__in=ctx.organizations, member_count__gte=BRANCH_MIN_MEMBERS.default
            )
            .exclude(coverage__in=ORGANIZATION_COVERAGE)
            .select_related("area")
            .order_by("-member_count", "name")
        )

    def describe(self, obj, ctx):
        return _("%(name)s：党员 %(n)d 人，%(coverage)s，属地 %(area)s") % {
            "name": obj.name,
            "n": obj.member_count,
            "coverage": obj.get_coverage_display(),
            "area": obj.area.name,
        }

    def organization_of(self, obj):
        return obj.area


@register
class SixHavesIncomplete(Flag):
    key = "six_haves_incomplete"
    label = gettext_lazy("阵地建设“六有”不全")
    citation = gettext_lazy("基层党组织活动阵地“六有”标准（场所、设施、标志、党旗、书报、制度）")
    order = 80

    def queryset(self, ctx: FlagContext):
        # Branches keep the 阵地; in villages and communities it is the unit's top
        # organization that runs the service premises.
        missing = Q()
        for field in SIX_HAVE_FIELDS:
            missing |= Q(**{field: False})
        active = ctx.organizations.active()
        grassroots = active.filter(sector__in=[Sector.VILLAGE, Sector.COMMUNITY]).unit_tops()
        return active.filter(
            Q(org_type__in=BRANCH_TYPES) | Q(pk__in=grassroots.values("pk"))
        ).filter(missing)

    def describe(self, obj, ctx):
        return _("缺：%(items)s") % {"items": "、".join(obj.missing_six_haves())}
