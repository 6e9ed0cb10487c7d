"""Compliance pages: a branch's year at a glance, a committee's matrix of its subtree (with
drill-down and Excel export), and the requirements table the top administrator edits."""

from __future__ import annotations

from datetime import date
from io import BytesIO

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook

from dangjian.accounts.roles import Perm
from dangjian.accounts.scope import has_perm_on
from dangjian.core.flags import FLAGS
from dangjian.core.views import flag_context
from dangjian.organizations.models import BRANCH_TYPES, Organization, OrgType
from dangjian.rules.views import top_organization

from . import requirement_settings
from .choices import MeetingKind, Period
from .compliance import (
    QUARTERS,
    STATUS_LABELS,
    STATUS_SHORT,
    Status,
    Window,
    compute,
    for_organization,
    rollup,
    slot_label,
)
from .requirements import DEFAULTS, requirements_for, requirements_for_organization
from .views_meetings import get_organization

MONTHS = list(range(1, 13))


def window_from(request) -> Window:
    """The year (and quarter) asked for; nonsense falls back to this year, whole."""
    today = timezone.localdate()
    try:
        year = int(request.GET.get("year", today.year))
    except ValueError:
        year = today.year
    if not 2000 <= year <= today.year + 1:
        year = today.year
    quarter = request.GET.get("quarter", "")
    if quarter in ("1", "2", "3", "4"):
        first = (int(quarter) - 1) * 3 + 1
        return Window(year, today, first, first + 2)
    return Window(year, today)


def years_around(today: date) -> list[int]:
    return list(range(today.year + 1, today.year - 5, -1))


def status_cells(cell, window: Window, year: int) -> list[dict]:
    """The periods of one requirement laid over twelve month columns."""
    requirement = cell.requirement
    width = 12 // requirement.slots
    cells = []
    for slot in range(requirement.slots):
        status = cell.status(slot)
        first, _last = requirement.slot_months(slot)
        count = cell.counts[slot - window.slots(requirement)[0]] if cell.counts else 0
        cells.append(
            {
                "slot": slot,
                "label": slot_label(requirement, slot),
                "status": status,
                "status_label": STATUS_LABELS[status],
                "short": STATUS_SHORT[status],
                "count": count,
                "colspan": width,
                "month": first,
                "title": f"{slot_label(requirement, slot, year)}：{STATUS_LABELS[status]}，"
                f"符合要求的{requirement.label}{count}次。{requirement.rule_text}"
                f"（{requirement.citation}）",
            }
        )
    return cells


@login_required
def year_view(request, pk: int):
    """One branch's (or group's) year: each requirement month by month, with its groups."""
    organization = get_organization(request, pk)
    window = window_from(request)
    window = Window(window.year, window.today)  # always the whole year here
    requirements = requirements_for_organization(organization)
    result = for_organization(organization, window, requirements)  # with meeting counts
    own = result.row(organization.pk)
    if own is None or not own.cells:
        return redirect(f"{_matrix_url(organization)}?year={window.year}")
    rows = []
    for row in result.rows:
        for cell in row.cells.values():
            rows.append(
                {
                    "org": row,
                    "requirement": cell.requirement,
                    "cell": cell,
                    "cells": status_cells(cell, window, window.year),
                }
            )
    ctx = flag_context(organization)
    absent = {
        key: list(FLAGS[key].queryset(ctx)[:50]) for key in ("absent_from_life", "absence_warning")
    }
    return render(
        request,
        "orglife/compliance_year.html",
        {
            "org": organization,
            "year": window.year,
            "years": years_around(window.today),
            "rows": rows,
            "requirements": [
                r for r in result.requirements if any(r.kind in x.cells for x in result.rows)
            ],
            "months": MONTHS,
            "absent": absent["absent_from_life"],
            "warned": absent["absence_warning"],
            "flags": {key: FLAGS[key] for key in absent},
            "can_manage": has_perm_on(request.user, Perm.MANAGE_LIFE, organization),
            "parent": organization.get_parent()
            if organization.depth > 1
            and Organization.objects.for_user(request.user, Perm.VIEW_LIFE)
            .filter(path=organization.parent_path)
            .exists()
            else None,
        },
    )


def _matrix_url(organization: Organization) -> str:
    from django.urls import reverse

    return reverse("orglife:matrix", args=[organization.pk])


def matrix_cell(total: dict, own, kind: str, year: int) -> dict:
    """What one matrix cell shows: a branch's own status, or a subtree's sums."""
    if not total["orgs"]:
        return {"empty": True}
    if own is not None and kind in own.cells and total["orgs"] == 1:
        cell = own.cells[kind]
        return {
            "single": True,
            "status": cell.overall,
            "status_label": STATUS_LABELS[cell.overall],
            "met": cell.met,
            "owed": cell.owed,
            "overdue": [slot_label(cell.requirement, s) for s in cell.overdue_slots()],
            "title": cell.describe(year),
        }
    status = Status.OVERDUE if total["orgs_overdue"] else Status.DUE if total["due"] else Status.MET
    return {
        "single": False,
        "status": status,
        **total,
    }


@login_required
def matrix_view(request, pk: int):
    """A committee's subtree as a matrix: its children (each summing its own subtree) against
    the requirements; a branch's row shows its own status and drills down to its year."""
    organization = get_organization(request, pk)
    window = window_from(request)
    requirements = requirements_for_organization(organization)
    result = compute(Organization.objects.within(organization), window, requirements)
    if request.GET.get("format") == "xlsx":
        return export_xlsx(organization, result)
    owed = [r for r in result.requirements if any(r.kind in row.cells for row in result.rows)]
    rows = []
    for rolled in rollup(result, organization):
        if not any(rolled.totals[r.kind]["orgs"] for r in owed):
            continue
        rows.append(
            {
                "org": rolled.organization,
                "is_self": rolled.is_self,
                # A branch's year page shows its groups too: branches and groups drill down there.
                "leaf": rolled.organization.org_type in (*BRANCH_TYPES, OrgType.GROUP),
                "cells": [
                    {
                        "requirement": r,
                        **matrix_cell(rolled.totals[r.kind], rolled.own, r.kind, window.year),
                    }
                    for r in owed
                ],
            }
        )
    totals = result.totals()
    return render(
        request,
        "orglife/compliance_matrix.html",
        {
            "org": organization,
            "window": window,
            "year": window.year,
            "quarter": request.GET.get("quarter", ""),
            "quarters": [(str(i + 1), label) for i, label in enumerate(QUARTERS)],
            "years": years_around(window.today),
            "requirements": owed,
            "rows": rows,
            "totals": [(r, totals[r.kind]) for r in owed],
            "ancestors": Organization.objects.for_user(request.user, Perm.VIEW_LIFE).above(
                organization
            ),
        },
    )


def export_xlsx(organization: Organization, result) -> HttpResponse:
    """Every organization of the subtree that owes something, one row each; per requirement
    the periods met / owed so far and the overdue periods by name."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("组织生活达标情况"))
    window = result.window
    requirements = [
        r for r in result.requirements if any(r.kind in row.cells for row in result.rows)
    ]
    title = _("%(org)s %(year)d年组织生活达标情况（截至%(today)s）") % {
        "org": organization.name,
        "year": window.year,
        "today": window.today.isoformat(),
    }
    sheet.append([title])
    header = [_("党组织"), _("组织类别")]
    cites = ["", _("依据")]
    for r in requirements:
        header += [f"{r.label}（{r.summary()}）", _("逾期期次")]
        cites += [str(r.citation), ""]
    sheet.append(header)
    sheet.append(cites)
    for row in result.rows:
        if not row.cells:
            continue
        indent = "　" * (row.depth - organization.depth)
        line = [indent + row.name, str(OrgType(row.org_type).label)]
        for r in requirements:
            cell = row.cells.get(r.kind)
            if cell is None:
                line += ["—", ""]
            else:
                line += [
                    f"{cell.met}/{cell.owed}",
                    "、".join(slot_label(r, s) for s in cell.overdue_slots()),
                ]
        sheet.append(line)
    buffer = BytesIO()
    workbook.save(buffer)
    response = HttpResponse(
        buffer.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    filename = f"compliance-{organization.pk}-{window.year}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
def overview(request):
    """Where the compliance pages start: the first organization of the user's scope — its
    year if it is a branch or group, else the matrix of its subtree."""
    root = Organization.objects.for_user(request.user, Perm.VIEW_LIFE).order_by("path").first()
    if root is None:
        raise Http404
    if root.org_type in (*BRANCH_TYPES, OrgType.GROUP):
        return redirect("orglife:year", root.pk)
    return redirect("orglife:matrix", root.pk)


# ---- the requirements table ----


@login_required
def requirement_list(request):
    root = top_organization(request)
    can_edit = has_perm_on(request.user, Perm.MANAGE_RULES, root)
    failed: dict[str, tuple[dict, list[str] | dict]] = {}
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied(_("只有顶层组织的管理员可以修改组织生活要求。"))
        kind = request.POST.get("kind", "")
        if kind not in DEFAULTS:
            raise Http404
        if request.POST.get("reset"):
            requirement_settings.reset_setting(request.user, root, kind)
            messages.success(request, _("已恢复默认要求。"))
            return redirect("orglife:requirements")
        typed = {
            "period": request.POST.get("period", ""),
            "minimum": _int(request.POST.get("minimum")),
            "quorum_percent": _int(request.POST.get("quorum_percent")),
            "org_types": request.POST.getlist("org_types"),
            "enabled": request.POST.get("enabled") == "on",
        }
        try:
            requirement_settings.save_setting(request.user, root, kind, typed)
        except ValidationError as error:
            failed[kind] = (typed, error.message_dict)
        else:
            messages.success(request, _("组织生活要求已保存。"))
            return redirect("orglife:requirements")
    rows = []
    for requirement in requirements_for(root):
        typed, errors = failed.get(requirement.kind, (None, {}))
        chosen = (typed or {}).get("org_types", requirement.org_types)
        rows.append(
            {
                "requirement": requirement,
                "default": DEFAULTS[requirement.kind],
                "typed": typed,
                "errors": errors,
                "types": [
                    (t, OrgType(t).label, t in chosen)
                    for t in requirement_settings.allowed_types(requirement.kind)
                ],
            }
        )
    return render(
        request,
        "orglife/requirements.html",
        {
            "root": root,
            "rows": rows,
            "can_edit": can_edit,
            "periods": Period.choices,
            "kinds": MeetingKind,
        },
        status=400 if failed else 200,
    )


def _int(value):
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None
