"""Flags about members and branch size. Each is one query over the subtree."""

from django.db.models import Count, Exists, OuterRef, Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from dangjian.core.flags import Flag, FlagContext, register
from dangjian.organizations.models import BRANCH_TYPES, CommitteeMember, CommitteePost
from dangjian.organizations.services import add_months

from .choices import ON_ROSTER, Membership, Standing
from .models import Member
from .rules import BRANCH_COMMITTEE_THRESHOLD, BRANCH_MAX_MEMBERS, LOST_CONTACT_MONTHS

COMMITTEE_POSTS = [CommitteePost.ORGANIZATION, CommitteePost.PROPAGANDA, CommitteePost.DISCIPLINE]


@register
class OversizedBranch(Flag):
    key = "oversized_branch"
    label = gettext_lazy("党员人数超过50人的“超大支部”")
    citation = BRANCH_MAX_MEMBERS.citation
    order = 45

    def queryset(self, ctx: FlagContext):
        limit = ctx.rules[BRANCH_MAX_MEMBERS.key]
        return (
            ctx.organizations.active()
            .filter(org_type__in=BRANCH_TYPES)
            .annotate(member_count=Count("members", filter=Q(members__standing__in=ON_ROSTER)))
            .filter(member_count__gt=limit)
            .order_by("-member_count")
        )

    def describe(self, obj, ctx):
        return _("党员 %(n)d 人，应考虑分设党支部或成立党总支") % {"n": obj.member_count}


@register
class BranchWithoutCommittee(Flag):
    key = "branch_without_committee"
    label = gettext_lazy("正式党员7人以上的党支部未设支部委员会")
    citation = BRANCH_COMMITTEE_THRESHOLD.citation
    severity = "danger"
    order = 46

    def queryset(self, ctx: FlagContext):
        threshold = ctx.rules[BRANCH_COMMITTEE_THRESHOLD.key]
        committee = CommitteeMember.objects.filter(
            organization=OuterRef("pk"), post__in=COMMITTEE_POSTS, ended_on__isnull=True
        )
        return (
            ctx.organizations.active()
            .filter(org_type__in=BRANCH_TYPES)
            .annotate(
                full_members=Count(
                    "members",
                    filter=Q(members__standing__in=ON_ROSTER, members__membership=Membership.FULL),
                )
            )
            .filter(full_members__gte=threshold)
            .filter(~Exists(committee))
        )

    def describe(self, obj, ctx):
        return _("正式党员 %(n)d 人，未配备组织、宣传、纪检委员") % {"n": obj.full_members}


@register
class LostContactMember(Flag):
    key = "lost_contact_member"
    label = gettext_lazy("失去联系6个月以上的党员")
    citation = LOST_CONTACT_MONTHS.citation
    severity = "danger"
    order = 90

    def queryset(self, ctx: FlagContext):
        cutoff = add_months(ctx.today, -int(ctx.rules[LOST_CONTACT_MONTHS.key]))
        return (
            Member.objects.filter(organization__in=ctx.organizations.active())
            .filter(standing__in=ON_ROSTER, lost_contact_since__lte=cutoff)
            .select_related("organization")
            .order_by("lost_contact_since", "id")
        )

    def describe(self, obj, ctx):
        since = obj.lost_contact_since.isoformat() if obj.lost_contact_since else _("未记录")
        return _("%(name)s：自 %(since)s 起失去联系") % {"name": obj.name, "since": since}


@register
class FloatingMember(Flag):
    key = "floating_member"
    label = gettext_lazy("流动党员：需落实“一方为主、双向管理”")
    citation = gettext_lazy("中组部《关于加强和改进流动党员管理工作的意见》")
    order = 95

    def queryset(self, ctx: FlagContext):
        return (
            Member.objects.filter(
                organization__in=ctx.organizations.active(), standing=Standing.FLOATING
            )
            .select_related("organization")
            .order_by("floating_since", "id")
        )

    def describe(self, obj, ctx):
        return _("%(name)s：外出至 %(to)s") % {
            "name": obj.name,
            "to": obj.floating_destination or _("（未填写流向）"),
        }
