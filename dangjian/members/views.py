"""Roster pages: thin views over the roster queries and the member services."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from dangjian.accounts.roles import Perm
from dangjian.accounts.scope import has_perm_anywhere, has_perm_on, scope_roots
from dangjian.organizations.models import Organization
from dangjian.organizations.services import StaleEdit
from dangjian.organizations.views import STALE_MESSAGE, labelled, with_version

from . import records, services
from .forms import MemberEditForm, MemberForm
from .models import Member
from .roster import filter_roster, keyset_page, roster_query


def visible_members(request):
    return Member.objects.for_user(request.user)


def get_member(request, pk: int) -> Member:
    """The member, if in the user's scope; 404 otherwise."""
    return get_object_or_404(
        visible_members(request).select_related("organization", "party_group"), pk=pk
    )


def roster_filters(request):
    """The roster filters from the query string; a bad value drops only itself.

    An organization that is not one the user may see is a 404, never "everything".
    """
    query = roster_query(request.user, request.GET)
    if query.org_hidden:
        raise Http404
    return query.form, query.data, query.anchor


@login_required
def roster(request):
    if not has_perm_anywhere(request.user, Perm.VIEW_MEMBERS):
        if hasattr(request.user, "member"):
            return redirect("members:me")
        raise PermissionDenied(_("您无权查看党员名册。"))
    form, data, anchor = roster_filters(request)
    members = filter_roster(visible_members(request), data, anchor, timezone.localdate())
    page = keyset_page(members, data.get("sort") or "name", request.GET.get("after"))
    query = request.GET.copy()
    query.pop("after", None)
    context = {
        "form": form,
        "anchor": anchor,
        "page": page,
        "query": query.urlencode(),
        "roots": scope_roots(request.user, Perm.VIEW_MEMBERS),
        "can_manage": has_perm_anywhere(request.user, Perm.MANAGE_MEMBERS),
        "can_unmask": has_perm_anywhere(request.user, Perm.UNMASK_ID),
        # The export takes the same filters as the list on screen.
        "export_params": [
            (key, value) for key, values in query.lists() if key != "unmasked" for value in values
        ],
    }
    template = "members/_rows.html" if request.headers.get("HX-Request") else "members/roster.html"
    return render(request, template, context)


@login_required
def roster_count(request):
    """The number of members matching the filters, asked for on its own."""
    _form, data, anchor = roster_filters(request)
    members = filter_roster(visible_members(request), data, anchor, timezone.localdate())
    return HttpResponse(_("共 %(n)d 人") % {"n": members.count()})


@login_required
def detail(request, pk: int):
    member = get_member(request, pk)
    return render(
        request,
        "members/detail.html",
        {
            "member": member,
            "history": services.history(member)[:100],
            "can_manage": has_perm_on(request.user, Perm.MANAGE_MEMBERS, member.organization),
            "can_unmask": services.may_unmask(request.user, member),
            "sections": records.sections(member),
        },
    )


@login_required
def me(request):
    """A member's own record."""
    member = (
        Member.objects.filter(user=request.user)
        .select_related("organization", "party_group")
        .first()
    )
    if member is None:
        raise Http404
    return render(
        request,
        "members/detail.html",
        {
            "member": member,
            "own": True,
            "can_unmask": True,
            "history": services.history(member)[:20],
            "sections": records.sections(member),
        },
    )


@login_required
@require_POST
def reveal(request, pk: int):
    member = Member.objects.filter(pk=pk, user=request.user).first() or get_member(request, pk)
    number = services.reveal_id_number(request.user, member)
    return HttpResponse(f'<span class="revealed">{number}</span>')


@login_required
def create(request):
    organizations = Organization.objects.for_user(request.user, Perm.MANAGE_MEMBERS).active()
    if not has_perm_anywhere(request.user, Perm.MANAGE_MEMBERS):
        raise PermissionDenied(_("您无权登记党员。"))
    initial = {}
    if request.GET.get("org", "").isdigit():
        initial["organization"] = request.GET["org"]
    form = MemberForm(request.POST or None, organizations=organizations, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            member = services.create_member(request.user, form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("已登记党员“%(name)s”。") % {"name": member.name})
            return redirect(member)
    return render(request, "members/form.html", {"form": form})


@login_required
def edit(request, pk: int):
    member = get_member(request, pk)
    if not has_perm_on(request.user, Perm.MANAGE_MEMBERS, member.organization):
        raise PermissionDenied(_("您无权修改该党员的信息。"))
    form = MemberEditForm(
        request.POST or None,
        instance=member,
        initial={"version": member.version},
        organizations=Organization.objects.filter(pk=member.organization_id),
    )
    stale = None
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        version = data.pop("version")
        data.pop("organization", None)
        try:
            services.update_member(request.user, member, data, version)
        except StaleEdit as error:
            stale = labelled(Member, error.changes)
            # Keep what was typed, but against the version now on record, so that saving
            # again after reviewing the changes goes through.
            form = MemberEditForm(
                with_version(request.POST, Member.objects.get(pk=member.pk).version),
                instance=member,
                organizations=Organization.objects.filter(pk=member.organization_id),
            )
            form.is_valid()
            form.add_error(None, STALE_MESSAGE)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("已保存。"))
            return redirect(member)
    return render(request, "members/form.html", {"form": form, "member": member, "stale": stale})


def record_kind(key: str) -> records.RecordKind:
    kind = records.KINDS.get(key)
    if kind is None:
        raise Http404
    return kind


@login_required
def record_add(request, pk: int, kind: str):
    member = get_member(request, pk)
    kind = record_kind(kind)
    if not has_perm_on(request.user, Perm.MANAGE_MEMBERS, member.organization):
        raise PermissionDenied(_("您无权修改该党员的信息。"))
    form = records.form_class(kind)(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            records.add(request.user, member, kind, form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("已保存。"))
            return redirect(f"{member.get_absolute_url()}#{kind.key}")
    return render(
        request, "members/record_form.html", {"member": member, "kind": kind, "form": form}
    )


@login_required
@require_POST
def record_remove(request, pk: int, kind: str, row_id: int):
    member = get_member(request, pk)
    kind = record_kind(kind)
    if not kind.model.objects.filter(pk=row_id, member=member).exists():
        raise Http404
    records.remove(request.user, member, kind, row_id)
    return redirect(f"{member.get_absolute_url()}#{kind.key}")
