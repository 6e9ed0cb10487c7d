from datetime import datetime, time

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.shortcuts import render
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from dangjian.accounts.roles import Perm
from dangjian.accounts.scope import scope_paths
from dangjian.organizations.models import Organization
from dangjian.organizations.querysets import subtree_q

from .models import AuditAction, AuditEvent

PAGE_SIZE = 50


def visible_events(user):
    """Events about organizations in the audit administrator's subtrees; sign-in events and
    others concerning no organization only for those granted on a top-level organization."""
    paths = scope_paths(user, Perm.VIEW_AUDIT)
    if paths is None:
        return AuditEvent.objects.all()
    if not paths:
        raise PermissionDenied(_("仅审计管理员可以查看审计日志。"))
    q = subtree_q(paths, "organization_path")
    if any(len(p) == Organization.steplen for p in paths):
        q |= Q(organization_path="")
    return AuditEvent.objects.filter(q)


def day_bound(value: str, end: bool):
    day = parse_date(value or "")
    if day is None:
        return None
    return timezone.make_aware(datetime.combine(day, time.max if end else time.min))


@login_required
def event_list(request):
    events = visible_events(request.user)
    filters = {
        "action": request.GET.get("action", ""),
        "actor": request.GET.get("actor", "").strip(),
        "object_type": request.GET.get("object_type", "").strip(),
        "since": request.GET.get("since", ""),
        "until": request.GET.get("until", ""),
    }
    if filters["action"]:
        events = events.filter(action=filters["action"])
    if filters["actor"]:
        events = events.filter(actor_name=filters["actor"])
    if filters["object_type"]:
        events = events.filter(object_type=filters["object_type"])
    if since := day_bound(filters["since"], end=False):
        events = events.filter(at__gte=since)
    if until := day_bound(filters["until"], end=True):
        events = events.filter(at__lte=until)
    # Keyset pagination: the log only grows; no COUNT over it.
    before = request.GET.get("before", "")
    if before.isdigit():
        events = events.filter(id__lt=int(before))
    rows = list(events.order_by("-id")[: PAGE_SIZE + 1])
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    query = request.GET.copy()
    query.pop("before", None)
    return render(
        request,
        "audit/list.html",
        {
            "events": rows,
            "next_before": rows[-1].id if more else None,
            "filters": filters,
            "actions": AuditAction.choices,
            "query": query.urlencode(),
        },
    )
