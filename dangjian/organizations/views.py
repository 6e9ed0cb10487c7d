"""Pages of the organization tree. Thin: they scope, call a service, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from dangjian.accounts.roles import Perm
from dangjian.accounts.scope import has_perm_on, scope_roots
from dangjian.core.flags import FlagContext, all_flags

from . import services
from .coverage import coverage_table
from .forms import (
    CommitteeMemberForm,
    DissolveForm,
    MoveForm,
    NewOrganizationForm,
    OrganizationEditForm,
    OrganizationForm,
    RegionalLinkForm,
    VillageIncomeForm,
)
from .models import CommitteeMember, NewOrganization, Organization, OrgType, RegionalLink, Sector

SEARCH_LIMIT = 50
STALE_MESSAGE = gettext_lazy(
    "保存前已有其他人修改了这条记录，请核对下列变化后再提交。您填写的内容仍保留在表单中。"
)


def scoped(request, permission: str | None = None):
    return Organization.objects.for_user(request.user, permission)


def get_organization(request, pk: int, permission: str | None = None) -> Organization:
    """The organization, if the user may see it; 404 otherwise (its existence is not revealed)."""
    return get_object_or_404(scoped(request), pk=pk)


def check(request, permission: str, organization: Organization) -> None:
    if not has_perm_on(request.user, permission, organization):
        raise PermissionDenied(_("您无权执行此操作。"))


def visible_ancestors(request, organization: Organization) -> list[tuple[Organization, bool]]:
    """Breadcrumbs: every ancestor, linked only where the user may see it."""
    ancestors = list(Organization.objects.get_ancestors(organization))
    visible = set(
        scoped(request).filter(pk__in=[a.pk for a in ancestors]).values_list("pk", flat=True)
    )
    return [(a, a.pk in visible) for a in ancestors]


@login_required
def tree(request):
    roots = scope_roots(request.user)
    return render(request, "organizations/tree.html", {"roots": roots})


@login_required
def children(request, pk: int):
    parent = get_organization(request, pk)
    nodes = (
        Organization.objects.get_children(parent)
        .active()
        .only("id", "name", "org_type", "path", "depth", "numchild")
    )
    return render(request, "organizations/_children.html", {"nodes": nodes, "parent": parent})


@login_required
def search(request):
    query = request.GET.get("q", "").strip()
    results = []
    if query:
        results = (
            scoped(request)
            .active()
            .filter(name__icontains=query)
            .only("id", "name", "org_type", "path", "depth")[:SEARCH_LIMIT]
        )
    template = "organizations/_search_results.html"
    if not request.headers.get("HX-Request"):
        template = "organizations/search.html"
    return render(request, template, {"results": results, "query": query, "limit": SEARCH_LIMIT})


PICK_PERMISSIONS = {
    "view": Perm.VIEW_ORGANIZATION,
    "manage": Perm.MANAGE_STRUCTURE,
    "neworg": Perm.MANAGE_NEW_ORGANIZATIONS,
    "members": Perm.MANAGE_MEMBERS,
}


@login_required
def pick(request):
    """Search results that fill an organization picker (a hidden input) on click."""
    query = request.GET.get("q", "").strip()
    field = request.GET.get("field", "")
    permission = PICK_PERMISSIONS.get(request.GET.get("perm", "view"), Perm.VIEW_ORGANIZATION)
    results = []
    if query:
        results = (
            scoped(request, permission)
            .active()
            .filter(name__icontains=query)
            .only("id", "name", "org_type", "path", "depth")[:20]
        )
    return render(request, "organizations/_pick_results.html", {"results": results, "field": field})


@login_required
def detail(request, pk: int):
    organization = get_organization(request, pk)
    return render(request, "organizations/detail.html", detail_context(request, organization))


def detail_context(request, organization: Organization, **forms) -> dict:
    """The organization page; ``forms`` are bound forms to show again with their errors."""
    today = timezone.localdate()
    children_qs = Organization.objects.get_children(organization).active()
    ctx = FlagContext(
        organizations=Organization.objects.filter(pk=organization.pk),
        rules=services.rulebook_for(organization),
        today=today,
    )
    flag_hits = [hit for flag in all_flags() for hit in flag.hits(ctx, limit=20)]
    type_labels = dict(OrgType.choices)
    subtree_counts = [
        (type_labels[org_type], n)
        for org_type, n in Organization.objects.within(organization, include_self=False)
        .active()
        .values_list("org_type")
        .annotate(n=Count("id"))
        .order_by("org_type")
    ]
    user = request.user
    context = {
        "org": organization,
        "ancestors": visible_ancestors(request, organization),
        "children": children_qs[:100],
        "children_count": children_qs.count(),
        "subtree_counts": subtree_counts,
        "committee": organization.current_committee(),
        "former_committee": organization.committee_members.filter(ended_on__isnull=False)[:20],
        "incomes": organization.village_incomes.all()[:5]
        if organization.sector == Sector.VILLAGE
        else None,
        "links": organization.regional_links.filter(left_on__isnull=True).select_related(
            "unit_organization"
        ),
        "hubs": scoped(request).filter(
            regional_links__unit_organization=organization, regional_links__left_on__isnull=True
        ),
        "flag_hits": flag_hits,
        "can_change": has_perm_on(user, Perm.CHANGE_ORGANIZATION, organization),
        "can_manage_children": has_perm_on(user, Perm.MANAGE_STRUCTURE, organization),
        "can_manage_self": organization.depth > 1
        and has_perm_on(
            user,
            Perm.MANAGE_STRUCTURE,
            Organization.objects.get_parent(organization),
        ),
        "committee_form": CommitteeMemberForm(),
        "income_form": VillageIncomeForm(initial={"year": today.year - 1}),
    }
    context.update(forms)
    return context


@login_required
def create(request, parent_pk: int):
    parent = get_organization(request, parent_pk)
    check(request, Perm.MANAGE_STRUCTURE, parent)
    form = OrganizationForm(request.POST or None, initial={"sector": parent.sector})
    if request.method == "POST" and form.is_valid():
        try:
            organization = services.create_organization(request.user, parent, form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("已新建“%(name)s”。") % {"name": organization.name})
            return redirect(organization)
    return render(request, "organizations/form.html", {"form": form, "parent": parent})


@login_required
def edit(request, pk: int):
    organization = get_organization(request, pk)
    check(request, Perm.CHANGE_ORGANIZATION, organization)
    initial = {"version": organization.version}
    form = OrganizationEditForm(request.POST or None, instance=organization, initial=initial)
    stale = None
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        version = data.pop("version")
        try:
            services.update_organization(request.user, organization, data, version)
        except services.StaleEdit as error:
            stale = labelled(Organization, error.changes)
            current = Organization.objects.get(pk=organization.pk)
            form = OrganizationEditForm(
                with_version(request.POST, current.version), instance=current
            )
            form.is_valid()
            form.add_error(None, STALE_MESSAGE)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("已保存。"))
            return redirect(organization)
    return render(
        request,
        "organizations/form.html",
        {"form": form, "org": organization, "stale": stale},
    )


def with_version(post, version: int):
    """The submitted form data, re-pinned to the version now on record (after a stale save)."""
    data = post.copy()
    data["version"] = str(version)
    return data


def labelled(model, changes):
    """Stale-edit changes with each field's Chinese name."""
    names = {f.name: str(f.verbose_name) for f in model._meta.concrete_fields}
    return [(names.get(field, field), old, new, who) for field, old, new, who in changes]


@login_required
def move(request, pk: int):
    organization = get_organization(request, pk)
    parent = Organization.objects.get_parent(organization)
    if parent is None:
        raise PermissionDenied(_("顶层组织不能调整隶属关系。"))
    check(request, Perm.MANAGE_STRUCTURE, parent)
    form = MoveForm(request.POST or None)
    form.fields["new_parent"].queryset = scoped(request, Perm.MANAGE_STRUCTURE)
    if request.method == "POST" and form.is_valid():
        try:
            services.move_organization(request.user, organization, form.cleaned_data["new_parent"])
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("已调整隶属关系。"))
            return redirect(organization)
    return render(
        request, "organizations/move.html", {"form": form, "org": organization, "parent": parent}
    )


@login_required
def dissolve(request, pk: int):
    organization = get_organization(request, pk)
    parent = Organization.objects.get_parent(organization)
    if parent is None:
        raise PermissionDenied(_("顶层组织不能撤销。"))
    check(request, Perm.MANAGE_STRUCTURE, parent)
    form = DissolveForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.dissolve_organization(
                request.user,
                organization,
                form.cleaned_data["dissolved_on"],
                form.cleaned_data["reason"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("已撤销“%(name)s”。") % {"name": organization.name})
            return redirect(parent)
    return render(
        request,
        "organizations/dissolve.html",
        {"form": form, "org": organization, "blockers": services.dissolve_blockers(organization)},
    )


@login_required
@require_POST
def committee_add(request, pk: int):
    organization = get_organization(request, pk)
    check(request, Perm.CHANGE_ORGANIZATION, organization)
    form = CommitteeMemberForm(request.POST)
    if form.is_valid():
        try:
            services.add_committee_member(request.user, organization, form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
    if not request.headers.get("HX-Request"):
        if form.errors:  # show the page again with what was typed and what is wrong
            context = detail_context(request, organization, committee_form=form)
            return render(request, "organizations/detail.html", context)
        return redirect(organization)
    if form.errors:
        return render(
            request,
            "organizations/_committee.html",
            {
                "org": organization,
                "committee_form": form,
                "committee": organization.current_committee(),
                "can_change": True,
            },
        )
    return render(
        request,
        "organizations/_committee.html",
        {
            "org": organization,
            "committee": organization.current_committee(),
            "committee_form": CommitteeMemberForm(),
            "can_change": True,
        },
    )


@login_required
@require_POST
def committee_end(request, pk: int, member_pk: int):
    organization = get_organization(request, pk)
    check(request, Perm.CHANGE_ORGANIZATION, organization)
    member = get_object_or_404(CommitteeMember, pk=member_pk, organization=organization)
    services.end_committee_member(request.user, member, timezone.localdate())
    return redirect(organization)


@login_required
@require_POST
def income_set(request, pk: int):
    organization = get_organization(request, pk)
    check(request, Perm.CHANGE_ORGANIZATION, organization)
    form = VillageIncomeForm(request.POST)
    if form.is_valid():
        try:
            services.set_village_income(
                request.user, organization, form.cleaned_data["year"], form.cleaned_data["amount"]
            )
        except ValidationError as error:
            form.add_error(None, error)
    if form.errors:
        context = detail_context(request, organization, income_form=form)
        return render(request, "organizations/detail.html", context)
    messages.success(request, _("已登记集体经济收入。"))
    return redirect(organization)


@login_required
def link_add(request, pk: int):
    hub = get_organization(request, pk)
    check(request, Perm.CHANGE_ORGANIZATION, hub)
    form = RegionalLinkForm(request.POST or None, scope=scoped(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.add_regional_link(request.user, hub, form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("已添加联建单位。"))
            return redirect(hub)
    return render(request, "organizations/link_form.html", {"form": form, "org": hub})


@login_required
@require_POST
def link_end(request, pk: int, link_pk: int):
    hub = get_organization(request, pk)
    check(request, Perm.CHANGE_ORGANIZATION, hub)
    link = get_object_or_404(RegionalLink, pk=link_pk, hub=hub)
    services.end_regional_link(request.user, link, timezone.localdate())
    return redirect(hub)


# The register of new organizations (两新组织) and its coverage.


def scope_root_or_404(request, permission: str | None = None) -> Organization:
    """The organization a register page is about: ?org=, or the top of the user's scope."""
    org_id = request.GET.get("org")
    if org_id:
        if not org_id.isdigit():
            raise Http404
        return get_organization(request, int(org_id))
    root = scope_roots(request.user, permission).first()
    if root is None:
        raise Http404
    return root


@login_required
def new_organizations(request):
    area = scope_root_or_404(request)
    entries = (
        NewOrganization.objects.filter(area__in=Organization.objects.within(area))
        .select_related("area", "party_organization")
        .order_by("name")
    )
    category = request.GET.get("category", "")
    coverage = request.GET.get("coverage", "")
    query = request.GET.get("q", "").strip()
    if category:
        entries = entries.filter(category=category)
    if coverage:
        entries = entries.filter(coverage=coverage)
    if query:
        entries = entries.filter(Q(name__icontains=query) | Q(credit_code=query))
    page = Paginator(entries, 30).get_page(request.GET.get("page"))
    rows, total = coverage_table(area, services.rulebook_for(area))
    return render(
        request,
        "organizations/new_organizations.html",
        {
            "area": area,
            "page": page,
            "rows": rows,
            "total": total,
            "category": category,
            "coverage": coverage,
            "query": query,
            "categories": NewOrganization._meta.get_field("category").choices,
            "coverages": NewOrganization._meta.get_field("coverage").choices,
            "can_manage": has_perm_on(request.user, Perm.MANAGE_NEW_ORGANIZATIONS, area),
            "extra_query": urlencode(
                {"org": area.pk, "category": category, "coverage": coverage, "q": query}
            ),
        },
    )


@login_required
def new_organization_edit(request, pk: int | None = None):
    instance = None
    if pk is not None:
        instance = get_object_or_404(
            NewOrganization.objects.filter(area__in=scoped(request)), pk=pk
        )
        check(request, Perm.MANAGE_NEW_ORGANIZATIONS, instance.area)
    form = NewOrganizationForm(
        request.POST or None,
        instance=instance,
        area_scope=scoped(request, Perm.MANAGE_NEW_ORGANIZATIONS),
        view_scope=scoped(request),
    )
    stale = None
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        version = data.pop("version", None)
        try:
            saved = services.save_new_organization(request.user, instance, data, version)
        except services.StaleEdit as error:
            stale = labelled(NewOrganization, error.changes)
            current = NewOrganization.objects.get(pk=instance.pk)
            form = NewOrganizationForm(
                with_version(request.POST, current.version),
                instance=current,
                area_scope=scoped(request, Perm.MANAGE_NEW_ORGANIZATIONS),
                view_scope=scoped(request),
            )
            form.is_valid()
            form.add_error(None, STALE_MESSAGE)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("已保存“%(name)s”。") % {"name": saved.name})
            return redirect(f"{reverse('organizations:new_organizations')}?org={saved.area_id}")
    return render(
        request,
        "organizations/new_organization_form.html",
        {"form": form, "instance": instance, "stale": stale},
    )
