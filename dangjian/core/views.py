"""The home page: the user's scope at a glance, with its flags."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from dangjian.accounts.scope import scope_roots
from dangjian.core.flags import FLAGS, FlagContext, summary
from dangjian.organizations.models import Organization, OrgType
from dangjian.organizations.services import rulebook_for
from dangjian.reminders.views import home_reminders


def flag_context(organization: Organization, today=None) -> FlagContext:
    """The flags of ``organization``'s subtree under its rules, as of ``today`` (default: the
    day in the project's time zone)."""
    return FlagContext(
        organizations=Organization.objects.within(organization),
        rules=rulebook_for(organization),
        today=today or timezone.localdate(),
    )


def type_counts(organization: Organization) -> list[tuple[str, int]]:
    counts = dict(
        Organization.objects.within(organization)
        .active()
        .values_list("org_type")
        .annotate(n=Count("id"))
        .order_by()
    )
    return [(label, counts.get(value, 0)) for value, label in OrgType.choices]


@login_required
def home(request):
    scopes = []
    for root in scope_roots(request.user)[:5]:
        ctx = flag_context(root)
        counts = type_counts(root)
        scopes.append(
            {
                "root": root,
                "counts": counts,
                "total": sum(n for _, n in counts),
                "flags": summary(ctx, limit=5),
            }
        )
    return render(
        request,
        "core/home.html",
        {"scopes": scopes, "reminders": home_reminders(request.user)},
    )


@login_required
def flag_list(request, key: str, org_pk: int):
    flag = FLAGS.get(key)
    if flag is None:
        raise Http404
    organization = get_object_or_404(Organization.objects.for_user(request.user), pk=org_pk)
    ctx = flag_context(organization)
    page = Paginator(flag.queryset(ctx), 50).get_page(request.GET.get("page"))
    hits = [(obj, flag.organization_of(obj), flag.describe(obj, ctx)) for obj in page.object_list]
    return render(
        request,
        "core/flag_list.html",
        {"flag": flag, "org": organization, "page": page, "hits": hits},
    )
