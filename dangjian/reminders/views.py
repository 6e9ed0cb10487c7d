"""Pages of the reminder lists: a branch's month, a committee's overview, marking items done.

Everything is scoped with ``Organization.objects.for_user(user, Perm.VIEW_LIFE)``: an
organization out of scope is a 404, as elsewhere.
"""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from dangjian.accounts.roles import Perm
from dangjian.accounts.scope import has_perm_on, scope_paths, scope_roots
from dangjian.organizations.models import BRANCH_TYPES, Organization
from dangjian.organizations.services import add_months

from . import services
from .models import ReminderItem, ReminderList

HOME_BRANCHES = 3
HOME_ITEMS = 5


def scoped(user):
    return Organization.objects.for_user(user, Perm.VIEW_LIFE)


def list_url(organization_id: int, month: date | None = None) -> str:
    url = reverse("reminders:list", args=[organization_id])
    return f"{url}?month={month:%Y-%m}" if month else url


def month_context(month: date, current: date) -> dict:
    return {
        "month": month,
        "is_current": month == current,
        "previous_month": add_months(month, -1),
        "next_month": add_months(month, 1) if month < current else None,
    }


def split(items: list[ReminderItem]) -> tuple[list[ReminderItem], list[ReminderItem]]:
    open_items = [i for i in items if i.is_open]
    closed = [i for i in items if not i.is_open]
    return open_items, closed


@login_required
def reminder_list(request, org_pk: int):
    organization = get_object_or_404(scoped(request.user), pk=org_pk)
    today = timezone.localdate()
    current = today.replace(day=1)
    month = services.parse_month(request.GET.get("month")) or current
    if not organization.is_branch:
        return overview(request, organization, month, today)
    if month == current and organization.is_active:
        found = services.ensure_lists([organization], month, today).get(organization.pk)
    else:  # past months as they were kept; nothing is rebuilt after the fact
        found = ReminderList.objects.filter(organization=organization, month=month).first()
    items = list(found.items.select_related("done_by")) if found else []
    open_items, closed = split(items)
    parent = (
        scoped(request.user).filter(path=organization.parent_path).first()
        if organization.depth > 1
        else None
    )
    return render(
        request,
        "reminders/list.html",
        {
            "org": organization,
            "parent": parent,
            "reminder_list": found,
            "open_items": open_items,
            "closed_items": closed,
            "can_manage": has_perm_on(request.user, Perm.MANAGE_LIFE, organization),
            **month_context(month, current),
        },
    )


def overview(request, organization: Organization, month: date, today: date):
    """A committee's month: each branch of its subtree with its items and how many are done.

    Set-based: the branches (paged), their lists, and one grouped count per page.
    """
    current = today.replace(day=1)
    branches = Organization.objects.within(organization).active().filter(org_type__in=BRANCH_TYPES)
    if month == current:
        kept = ReminderList.objects.filter(month=month).values("organization_id")
        if branches.exclude(pk__in=kept).exists():
            services.generate(Organization.objects.within(organization), month, today)
    page = Paginator(branches.order_by("path"), 50).get_page(request.GET.get("page"))
    lists = ReminderList.objects.filter(
        month=month, organization__in=[b.pk for b in page.object_list]
    )
    list_of = dict(lists.values_list("organization_id", "pk"))
    counts = services.summary(lists)
    rows = [(branch, counts.get(list_of.get(branch.pk))) for branch in page.object_list]
    totals = ReminderItem.objects.filter(
        reminder_list__month=month, reminder_list__organization__in=branches
    ).aggregate(
        total=Count("pk", filter=Q(resolved_automatically=False) | Q(done_at__isnull=False)),
        done=Count("pk", filter=Q(done_at__isnull=False)),
        open=Count("pk", filter=Q(resolved_automatically=False, done_at__isnull=True)),
        branches_open=Count(
            "reminder_list__organization",
            filter=Q(resolved_automatically=False, done_at__isnull=True),
            distinct=True,
        ),
    )
    return render(
        request,
        "reminders/overview.html",
        {
            "org": organization,
            "page": page,
            "rows": rows,
            "totals": totals,
            "branch_count": page.paginator.count,
            "extra_query": f"month={month:%Y-%m}",
            "can_manage": has_perm_on(request.user, Perm.MANAGE_LIFE, organization),
            **month_context(month, current),
        },
    )


@login_required
@require_POST
def regenerate(request, org_pk: int):
    """Check this month's lists again now (after recording a meeting, say)."""
    organization = get_object_or_404(scoped(request.user), pk=org_pk)
    if not has_perm_on(request.user, Perm.MANAGE_LIFE, organization):
        raise PermissionDenied(_("您无权执行此操作。"))
    today = timezone.localdate()
    services.generate(Organization.objects.within(organization), today.replace(day=1), today)
    messages.success(request, _("已重新核验本月提醒单。"))
    return redirect(list_url(organization.pk))


@login_required
@require_POST
def mark_done(request, pk: int):
    item = get_object_or_404(
        ReminderItem.objects.select_related("reminder_list__organization").filter(
            reminder_list__organization__in=scoped(request.user)
        ),
        pk=pk,
    )
    note = request.POST.get("note", "")
    errors = []
    try:
        item = services.mark_done(request.user, item, note)
    except ValidationError as error:
        errors = error.message_dict.get("note", error.messages)
    organization = item.reminder_list.organization
    if request.headers.get("HX-Request"):
        return render(
            request,
            "reminders/_item.html",
            {"item": item, "can_manage": True, "errors": errors, "note": note},
        )
    if errors:
        for message in errors:
            messages.error(request, message)
    else:
        messages.success(request, _("已标记完成。"))
    return redirect(list_url(organization.pk, item.reminder_list.month))


def home_reminders(user) -> dict | None:
    """For the home page: this month's list of each branch the user serves (built if
    missing), and links to the overview of the other organizations in their scope."""
    paths = scope_paths(user, Perm.VIEW_LIFE)
    if paths is None:
        tops = list(scope_roots(user, Perm.VIEW_LIFE)[:5])
    elif not paths:
        return None
    else:
        tops = list(Organization.objects.filter(path__in=paths).active())
    branches = [o for o in tops if o.is_branch][:HOME_BRANCHES]
    others = [o for o in tops if not o.is_branch][:5]
    if not branches and not others:
        return None
    today = timezone.localdate()
    month = today.replace(day=1)
    lists = services.ensure_lists(branches, month, today)
    by_list: dict[int, list[ReminderItem]] = {pk: [] for pk in (lst.pk for lst in lists.values())}
    for item in ReminderItem.objects.filter(reminder_list__in=list(lists.values())):
        by_list[item.reminder_list_id].append(item)
    cards = []
    for branch in branches:
        found = lists.get(branch.pk)
        open_items, closed = split(by_list.get(found.pk, []) if found else [])
        cards.append(
            {
                "org": branch,
                "open": open_items[:HOME_ITEMS],
                "open_count": len(open_items),
                "closed_count": len(closed),
            }
        )
    return {"month": month, "branches": cards, "others": others}
