"""Statistics, dashboards and report drafts: thin views over the tables of
:mod:`dangjian.reports.statistics`. An organization outside the user's scope is a 404."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header, urlencode
from django.utils.translation import gettext as _

from dangjian.accounts.roles import Perm
from dangjian.accounts.scope import has_perm_anywhere, scope_roots
from dangjian.organizations.models import BRANCH_TYPES, Organization, OrgType, Sector
from dangjian.organizations.rules import ELECTED_TYPES
from dangjian.organizations.services import StaleEdit
from dangjian.organizations.views import STALE_MESSAGE

from . import dashboard, services
from .drafts import make_draft
from .exporting import section_workbook
from .forms import DraftForm, TemplateForm
from .models import ReportTemplate
from .periods import PARTS, Period, period_from
from .statistics import SECTION_BY_KEY, SECTIONS, catalogue

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ORG_PAGE = 50


def get_organization(request, pk: int) -> Organization:
    return get_object_or_404(
        Organization.objects.for_user(request.user, Perm.VIEW_STATISTICS), pk=pk
    )


def ancestors(request, organization: Organization):
    return Organization.objects.for_user(request.user, Perm.VIEW_STATISTICS).above(organization)


def period_context(period: Period, today) -> dict:
    return {
        "period": period,
        "years": list(range(today.year, today.year - 4, -1)),
        "parts": [(k, v[0]) for k, v in PARTS.items()],
    }


def download(content: bytes, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


@login_required
def overview(request):
    """The dashboard of the top of the user's scope."""
    root = scope_roots(request.user, Perm.VIEW_STATISTICS).order_by("path").first()
    if root is None:
        raise Http404
    return redirect("reports:dashboard", root.pk)


# ---- statistics ----


@login_required
def statistics_view(request, pk: int):
    organization = get_organization(request, pk)
    today = timezone.localdate()
    section = SECTION_BY_KEY.get(request.GET.get("section", ""), SECTIONS[0])
    period = period_from(request.GET, today)
    tables = section.build(organization, period, today)
    if request.GET.get("format") == "xlsx":
        content = section_workbook(
            str(section.label),
            organization.name,
            period.label if section.periodic else _("截至当日"),
            today,
            tables,
        )
        return download(content, f"{organization.name}-{section.label}-统计.xlsx", XLSX)
    query = urlencode({"section": section.key, **period.as_query()})

    def drill(row):
        child = row.organization
        if row.is_self or child is None or not child.numchild:
            return None
        return reverse("reports:statistics", args=[child.pk]) + "?" + query

    shown = [
        {
            "table": table,
            "total": table.total_cells(),
            "rows": [{"row": r, "cells": c, "drill": drill(r)} for r, c in table.grid()],
        }
        for table in tables
    ]
    return render(
        request,
        "reports/statistics.html",
        {
            "org": organization,
            "ancestors": ancestors(request, organization),
            "section": section,
            "sections": SECTIONS,
            "tables": shown,
            "today": today,
            "query": query,
            **period_context(period, today),
        },
    )


@login_required
def organization_list(request, pk: int):
    """The organizations of a subtree of one type or sector: the list behind the counts."""
    organization = get_organization(request, pk)
    organizations = Organization.objects.within(organization).active().order_by("path")
    filters = {}
    org_type = request.GET.get("org_type", "")
    if org_type in OrgType.values:
        organizations = organizations.filter(org_type=org_type)
        filters["org_type"] = OrgType(org_type).label
    sector = request.GET.get("sector", "")
    if sector in Sector.values:
        organizations = organizations.filter(sector=sector)
        filters["sector"] = Sector(sector).label
    if request.GET.get("elected"):
        organizations = organizations.filter(org_type__in=ELECTED_TYPES)
        filters["elected"] = _("应按期换届的党组织")
    page = Paginator(organizations, ORG_PAGE).get_page(request.GET.get("page"))
    query = urlencode({k: v for k, v in request.GET.items() if k != "page"})
    return render(
        request,
        "reports/organization_list.html",
        {"org": organization, "page": page, "filters": filters, "query": query},
    )


# ---- dashboard ----


def dashboard_context(request, organization, today):
    period = period_from(request.GET, today)
    return {
        "org": organization,
        "ancestors": ancestors(request, organization),
        "panels": [(key, title) for key, (title, _build) in dashboard.PANELS.items()],
        "period_query": urlencode(period.as_query()),
        "is_committee": organization.org_type not in (*BRANCH_TYPES, OrgType.GROUP),
        **period_context(period, today),
    }


@login_required
def dashboard_view(request, pk: int):
    organization = get_organization(request, pk)
    today = timezone.localdate()
    return render(
        request, "reports/dashboard.html", dashboard_context(request, organization, today)
    )


@login_required
def bigscreen(request, pk: int):
    """The full-screen view (大屏) of a committee's dashboard, refreshing itself."""
    organization = get_organization(request, pk)
    today = timezone.localdate()
    context = dashboard_context(request, organization, today)
    return render(request, "reports/bigscreen.html", {**context, "today": today})


@login_required
def panel(request, pk: int, key: str):
    organization = get_organization(request, pk)
    if key not in dashboard.PANELS:
        raise Http404
    today = timezone.localdate()
    period = period_from(request.GET, today)
    built = dashboard.PANELS[key][1](organization, period, today)
    return render(
        request,
        "reports/_panel.html",
        {"panel": built, "org": organization, "dark": request.GET.get("theme") == "dark"},
    )


# ---- report templates and drafts ----


def require_templates_access(request):
    if not has_perm_anywhere(request.user, Perm.VIEW_STATISTICS) and not has_perm_anywhere(
        request.user, Perm.MANAGE_REPORT_TEMPLATES
    ):
        raise Http404


@login_required
def template_list(request):
    require_templates_access(request)
    templates = services.visible_templates(request.user)
    rows = [(t, services.can_edit(request.user, t)) for t in templates]
    roots = scope_roots(request.user, Perm.MANAGE_REPORT_TEMPLATES)
    return render(
        request,
        "reports/template_list.html",
        {"rows": rows, "owners": roots, "can_create": roots.exists() or request.user.is_superuser},
    )


@login_required
def template_edit(request, pk: int | None = None):
    require_templates_access(request)
    if pk is None:
        template = ReportTemplate()
        owner_pk = request.GET.get("org") or request.POST.get("org")
        if owner_pk:
            template.organization = get_object_or_404(
                Organization.objects.for_user(request.user, Perm.MANAGE_REPORT_TEMPLATES),
                pk=owner_pk,
            )
        copy_of = request.GET.get("copy")
        if copy_of:
            source = get_object_or_404(services.visible_templates(request.user), pk=copy_of)
            template.name = _("%(name)s（副本）") % {"name": source.name}
            template.description = source.description
            template.default_part = source.default_part
            template.body = source.body
    else:
        template = get_object_or_404(services.visible_templates(request.user), pk=pk)
    if not services.can_edit(request.user, template):
        raise PermissionDenied(_("您没有编辑此报告模板的权限。"))
    form = TemplateForm(request.POST or None, instance=template)
    if request.method == "POST" and form.is_valid():
        try:
            version = int(request.POST.get("version", template.version or 1))
            services.save_template(request.user, form.instance, expected_version=version)
        except StaleEdit:
            messages.error(request, STALE_MESSAGE)
        except PermissionDenied as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("报告模板已保存。"))
            return redirect("reports:templates")
    names = catalogue(timezone.localdate())
    return render(
        request,
        "reports/template_form.html",
        {"form": form, "template": template, "names": sorted(names.items())},
    )


@login_required
def draft(request, pk: int):
    """Choose a template and a period; a valid choice downloads the filled .docx."""
    organization = get_organization(request, pk)
    today = timezone.localdate()
    templates = services.visible_templates(request.user, organization)
    bound = "template" in request.GET
    first = templates.first()
    initial = {
        "year": today.year,
        "part": first.default_part if first else "year",
        "template": first,
    }
    form = DraftForm(request.GET if bound else None, templates=templates, initial=initial)
    if bound and form.is_valid():
        data = form.cleaned_data
        period = Period(data["year"], data["part"])
        result = make_draft(data["template"], organization, period, today)
        return download(result.content, result.filename, DOCX)
    return render(
        request,
        "reports/draft.html",
        {
            "org": organization,
            "form": form,
            "ancestors": ancestors(request, organization),
            "statistics_url": reverse("reports:statistics", args=[organization.pk]),
        },
    )
