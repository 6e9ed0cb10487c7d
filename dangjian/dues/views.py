"""Dues pages: an organization's month, the collection statistics of a subtree, the monthly
sheet as Excel, a member's ledger for a year and a member's own dues. Thin views over
:mod:`dangjian.dues.services` (every write) and :mod:`dangjian.dues.statistics` (every read).

An organization or member outside the user's ``dues.view`` subtrees is a 404 (its existence is
not revealed); a write the user may not make is refused by the services (403). A member sees
their own ledger without ``dues.view``. A reduction or exemption is the higher committee's to
approve (``dues.approve`` above the branch): the branch's own clerk sees no form for it.
"""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from dangjian.accounts.roles import Perm
from dangjian.accounts.scope import has_perm_on, scope_paths
from dangjian.core.forms import add_errors
from dangjian.members.choices import Category, Occupation
from dangjian.members.models import Member
from dangjian.organizations.models import BRANCH_TYPES, Organization, OrgType
from dangjian.organizations.services import add_months, rulebook_for

from . import exporting, services, statistics
from .forms import BaseForm, PaymentForm, ReductionForm, SpecialForm, parse_month
from .models import DuesBase
from .rates import DuesCategory, RateTable
from .rules import BACKPAY_MONTHS, DUES_CITATION

PAGE_SIZE = 100
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# ---- scope ----


def get_organization(request, pk: int) -> Organization:
    """The organization, if the user may see its dues; 404 otherwise."""
    return get_object_or_404(Organization.objects.for_user(request.user, Perm.VIEW_DUES), pk=pk)


def visible_members(user):
    return Member.objects.filter(
        organization__in=Organization.objects.for_user(user, Perm.VIEW_DUES)
    )


def get_member(request, pk: int) -> Member:
    """The member, if in the user's dues scope; 404 otherwise."""
    return get_object_or_404(visible_members(request.user).select_related("organization"), pk=pk)


def own_member(user) -> Member | None:
    return Member.objects.filter(user=user).select_related("organization").first()


def manager_of(user):
    """A test of "may ``user`` manage the dues of an organization with this path" that reads
    the user's grants once (for the rows of a page)."""
    paths = scope_paths(user, Perm.MANAGE_DUES)
    if paths is None:
        return lambda path: True
    return lambda path: any(path.startswith(p) for p in paths)


def is_htmx(request) -> bool:
    return bool(request.headers.get("HX-Request"))


def month_from(request) -> date:
    """The month asked for (?month=YYYY-MM); missing or nonsense: the current month."""
    today = timezone.localdate()
    month = parse_month(request.GET.get("month", ""))
    if month is None or not date(2000, 1, 1) <= month <= add_months(today, 12):
        return today.replace(day=1)
    return month


def year_from(request) -> int:
    today = timezone.localdate()
    try:
        year = int(request.GET.get("year", today.year))
    except ValueError:
        return today.year
    return year if 2000 <= year <= today.year + 1 else today.year


def ancestors(request, organization: Organization):
    """The organizations above ``organization`` that the user may also see, top first."""
    return Organization.objects.for_user(request.user, Perm.VIEW_DUES).above(organization)


def month_links(month: date) -> dict:
    return {
        "month": month,
        "month_value": f"{month:%Y-%m}",
        "previous_month": f"{add_months(month, -1):%Y-%m}",
        "next_month": f"{add_months(month, 1):%Y-%m}",
        "this_month": f"{timezone.localdate():%Y-%m}",
    }


def safe_next(request, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


# ---- where the dues pages start ----


@login_required
def overview(request):
    """The first organization of the user's dues scope: a branch's month, else the
    statistics of the subtree; a member without ``dues.view`` goes to their own dues."""
    root = Organization.objects.for_user(request.user, Perm.VIEW_DUES).order_by("path").first()
    if root is None:
        if own_member(request.user) is not None:
            return redirect("dues:my")
        raise Http404
    if root.org_type in (*BRANCH_TYPES, OrgType.GROUP):
        return redirect("dues:month", root.pk)
    return redirect("dues:statistics", root.pk)


# ---- an organization's month ----


def sheet_context(request, organization: Organization, month: date) -> dict:
    """The rows of the month page (one page of them) with their quick payment forms."""
    table = statistics.table_for_organization(organization)
    members = statistics.sheet_members(Organization.objects.within(organization), month)
    page = Paginator(members, PAGE_SIZE).get_page(request.GET.get("page"))
    manages = manager_of(request.user)
    today = timezone.localdate()
    rows = []
    for member in page:
        row = statistics.sheet_row(member, table, month)
        rows.append(row_context(row, manages(member.org_path), today, organization))
    return {"page": page, "rows": rows}


def row_context(row, can_manage: bool, today: date, organization: Organization, form=None):
    show_form = can_manage and row.payment is None and row.base is not None
    if show_form and form is None:
        form = PaymentForm(
            prefix=f"m{row.member.pk}",
            initial={"month": row.month, "amount": row.due, "paid_on": today},
        )
    return {
        "row": row,
        "form": form if show_form else None,
        "can_manage": can_manage,
        "show_org": row.member.organization_id != organization.pk,
        "org": organization,
    }


@login_required
@require_GET
def month_view(request, pk: int):
    """Every member of the subtree owing the month, paid or not, with a quick form to record
    a payment; the month's totals at the top."""
    organization = get_organization(request, pk)
    month = month_from(request)
    book = rulebook_for(organization)
    total = services.collection(Organization.objects.within(organization), month, book)
    context = {
        "org": organization,
        "total": total,
        "rate_percent": percent(total.rate),
        "ancestors": ancestors(request, organization),
        "has_children": organization.numchild > 0
        and organization.org_type not in (*BRANCH_TYPES, OrgType.GROUP),
        "backpay_months": int(book[BACKPAY_MONTHS.key]),
        "citation": DUES_CITATION,
        "extra_query": urlencode({"month": f"{month:%Y-%m}"}),
        **month_links(month),
        **sheet_context(request, organization, month),
    }
    return render(request, "dues/month.html", context)


def percent(rate) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


@login_required
@require_GET
def export(request, pk: int):
    """The monthly collection sheet (党费收缴登记表) of the subtree as .xlsx."""
    organization = get_organization(request, pk)
    month = month_from(request)
    total = services.collection(
        Organization.objects.within(organization), month, rulebook_for(organization)
    )
    stream = exporting.export_sheet(request.user, organization, month, total)
    filename = f"党费收缴登记表-{organization.name}-{month:%Y%m}.xlsx"
    return FileResponse(stream, as_attachment=True, filename=filename, content_type=XLSX)


# ---- recording one payment ----


@login_required
@require_http_methods(["GET", "POST"])
def pay(request, pk: int):
    """Record one member's dues for a month. The month page posts here with htmx and gets
    the member's row back (with the errors, what was typed kept); without htmx this is a
    page of its own."""
    member = get_member(request, pk)
    if not has_perm_on(request.user, Perm.MANAGE_DUES, member.organization):
        raise PermissionDenied(_("您无权登记该党员的党费。"))
    today = timezone.localdate()
    prefix = f"m{member.pk}"
    page_org = member.organization
    if request.method == "POST" and request.POST.get("org", "").isdigit():
        # the organization whose month page the row is on (whether to name the member's own)
        page_org = (
            Organization.objects.for_user(request.user, Perm.VIEW_DUES)
            .filter(pk=int(request.POST["org"]))
            .first()
            or member.organization
        )
    if request.method == "GET":
        month = month_from(request)
        form = PaymentForm(
            prefix=prefix,
            initial={
                "month": month,
                "amount": services.monthly_due(member, month),
                "paid_on": today,
            },
        )
        return render(request, "dues/pay.html", pay_context(request, member, form))
    form = PaymentForm(request.POST, prefix=prefix)
    payment = None
    if form.is_valid():
        data = form.data_for_service()
        try:
            payment = services.record_payment(
                request.user,
                member,
                data["month"],
                data["amount"],
                data["paid_on"],
                approved=data["approved"],
                reason=data["reason"],
                note=data["note"],
            )
        except ValidationError as error:
            add_errors(form, error)
    if is_htmx(request):
        month = payment.month if payment else form.cleaned_data.get("month")
        month = month or parse_month(request.POST.get(f"{prefix}-month")) or today.replace(day=1)
        return render_row(request, member, month, page_org, None if payment else form, payment)
    if payment is None:
        return render(request, "dues/pay.html", pay_context(request, member, form), status=400)
    messages.success(request, paid_message(member, payment))
    fallback = (
        reverse("dues:month", args=[member.organization_id])
        + "?"
        + urlencode({"month": f"{payment.month:%Y-%m}"})
    )
    return redirect(safe_next(request, fallback))


def paid_message(member, payment) -> str:
    return _("已登记%(name)s %(month)s的党费%(amount)s元（%(kind)s）。") % {
        "name": member.name,
        "month": f"{payment.month:%Y年%m月}",
        "amount": payment.amount_paid,
        "kind": payment.get_kind_display(),
    }


def pay_context(request, member, form) -> dict:
    return {
        "member": member,
        "form": form,
        "next": safe_next(request, ""),
        "backpay_months": int(rulebook_for(member.organization)[BACKPAY_MONTHS.key]),
    }


def render_row(request, member, month, organization, form, payment):
    """The member's row of the month page, after a payment was recorded (or refused)."""
    found = (
        statistics.sheet_members(Organization.objects.filter(pk=member.organization_id), month)
        .filter(pk=member.pk)
        .first()
    )
    table = statistics.table_for_organization(member.organization)
    context = {"saved": payment is not None, "month": month, "next": safe_next(request, "")}
    if found is None:  # the month is not owed by the member (it was refused for that)
        context.update({"missing": member, "form_errors": form.non_field_errors() if form else []})
        context["org"] = organization
        return render(request, "dues/_row.html", context)
    row = statistics.sheet_row(found, table, month)
    context.update(row_context(row, True, timezone.localdate(), organization, form=form))
    if payment is not None:
        context["message"] = paid_message(member, payment)
    return render(request, "dues/_row.html", context)


# ---- collection statistics of a subtree ----


@login_required
@require_GET
def statistics_view(request, pk: int):
    """The organization's own members and each child's subtree for the month: due, paid,
    rate, members owing / paid / without a base; children drill down."""
    organization = get_organization(request, pk)
    month = month_from(request)
    result = statistics.by_child(organization, month)
    rows = [
        {
            "org": r.organization,
            "is_self": r.is_self,
            "c": r.collection,
            "rate": percent(r.collection.rate),
            # a branch's members are all on its own roster: it opens on its month
            "drill": not r.is_self
            and r.organization.numchild > 0
            and r.organization.org_type not in (*BRANCH_TYPES, OrgType.GROUP),
        }
        for r in result.rows
    ]
    return render(
        request,
        "dues/statistics.html",
        {
            "org": organization,
            "total": result.total,
            "rate_percent": percent(result.total.rate),
            "rows": rows,
            "ancestors": ancestors(request, organization),
            **month_links(month),
        },
    )


# ---- a member's ledger ----


def guess_category(member: Member) -> str:
    if member.occupation == Occupation.RETIRED or member.category == Category.RETIRED:
        return DuesCategory.RETIRED
    if member.occupation == Occupation.FARMER:
        return DuesCategory.FARMER
    if member.occupation == Occupation.STUDENT:
        return DuesCategory.STUDENT
    return DuesCategory.IN_SERVICE


def ledger_forms(
    member: Member, ledger, data=None, action: str = "", can_approve: bool = False
) -> dict:
    """The ledger page's forms (the reduction's only for who may approve it); the one named
    by ``action`` bound to ``data``."""
    today = timezone.localdate()
    year = ledger.year
    first_unpaid = next((m.month for m in ledger.months if m.status in ("unpaid", "current")), None)
    month = first_unpaid or (today.replace(day=1) if today.year == year else date(year, 1, 1))
    due = next((m.due for m in ledger.months if m.month == month), None)
    bases = DuesBase.objects.filter(pk__in=[b.pk for b in ledger.bases]).order_by("effective_from")

    def bound(name):
        return data if action == name else None

    forms = {
        "payment_form": PaymentForm(
            bound("payment"),
            prefix="payment",
            initial={"month": month, "amount": due, "paid_on": today},
        ),
        "base_form": BaseForm(
            bound("base"),
            prefix="base",
            initial={
                "effective_from": date(year, 1, 1),
                "category": guess_category(member),
            },
        ),
        "special_form": SpecialForm(bound("special"), prefix="special", initial={"date": today}),
    }
    if can_approve:
        forms["reduction_form"] = ReductionForm(
            bound("reduction"),
            prefix="reduction",
            bases=bases,
            initial={"approved_on": today, "base": bases.last()},
        )
    return forms


def save_ledger_form(request, member: Member, form, action: str) -> str:
    """Run the service behind one of the ledger's forms; the message to show."""
    data = form.cleaned_data
    user = request.user
    if action == "payment":
        payment = services.record_payment(
            user,
            member,
            data["month"],
            data["amount"],
            data["paid_on"],
            approved=data["approved"],
            reason=data["reason"],
            note=data["note"],
        )
        return paid_message(member, payment)
    if action == "base":
        base = services.set_base(user, member, data)
        return _("已设定%(name)s自%(month)s起的党费交纳基数。") % {
            "name": member.name,
            "month": f"{base.effective_from:%Y年%m月}",
        }
    if action == "reduction":
        services.approve_reduction(
            user,
            data["base"],
            exempt=data["exempt"],
            amount=data["amount"],
            reason=data["reason"],
            approved_on=data["approved_on"],
        )
        return _("已登记批准的减免。")
    contribution = services.record_special_contribution(
        user, member, data["amount"], data["date"], data["note"]
    )
    return _("已登记特殊党费%(amount)s元。") % {"amount": contribution.amount}


LEDGER_ACTIONS = ("payment", "base", "reduction", "special")


@login_required
@require_http_methods(["GET", "POST"])
def ledger_view(request, pk: int):
    """A member's year month by month, with the bases, reductions and special contributions;
    for those who manage the member's dues, the forms that change them."""
    member = get_member(request, pk)
    year = year_from(request)
    can_manage = has_perm_on(request.user, Perm.MANAGE_DUES, member.organization)
    can_approve = services.may_approve_reduction(request.user, member)
    today = timezone.localdate()
    ledger = statistics.ledger(member, year, today)
    status = 200
    action = request.POST.get("action", "") if request.method == "POST" else ""
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied(_("您无权修改该党员的党费记录。"))
        if action not in LEDGER_ACTIONS:
            raise Http404
        if action == "reduction" and not can_approve:
            raise PermissionDenied(_("减免党费须报上级党委批准，您无权登记。"))
    forms = ledger_forms(member, ledger, request.POST if action else None, action, can_approve)
    if action:
        form = forms[f"{action}_form"]
        if form.is_valid():
            try:
                message = save_ledger_form(request, member, form, action)
            except ValidationError as error:
                add_errors(form, error)
            else:
                messages.success(request, message)
                return redirect(f"{reverse('dues:ledger', args=[member.pk])}?year={year}")
        status = 400
    return render(
        request,
        "dues/ledger.html",
        {
            **ledger_context(ledger, today),
            **(forms if can_manage else {}),
            "can_manage": can_manage,
            "can_approve": can_approve,
            "open_form": action,
            "own": False,
            "years": list(range(today.year + 1, today.year - 5, -1)),
        },
        status=status,
    )


def ledger_context(ledger, today: date) -> dict:
    member = ledger.member
    table = RateTable.from_rules(rulebook_for(member.organization))
    return {
        "member": member,
        "ledger": ledger,
        "year": ledger.year,
        "bases": [
            {
                "base": b,
                "due": services.due_from_base(b, table),
                "percent": statistics.percent_label(statistics.percent_of(b, table)),
            }
            for b in ledger.bases
        ],
        "first_owed": services.first_owed_month(member),
        "citation": DUES_CITATION,
        "today": today,
    }


@login_required
@require_GET
def my_dues(request):
    """The signed-in member's own ledger, read-only."""
    member = own_member(request.user)
    today = timezone.localdate()
    if member is None:
        return render(request, "dues/ledger.html", {"member": None, "own": True})
    year = year_from(request)
    ledger = statistics.ledger(member, year, today)
    return render(
        request,
        "dues/ledger.html",
        {
            **ledger_context(ledger, today),
            "own": True,
            "can_manage": False,
            "years": list(range(today.year, today.year - 5, -1)),
        },
    )
