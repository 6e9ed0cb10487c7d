"""Transfer pages (组织关系转接): thin views over :mod:`dangjian.members.transfers`.

Both sides see a transfer: it is visible when its sending or its receiving organization lies
in the user's scope of members; anyone else gets 404. What each side may do is decided by the
services (403 when the user may not).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from dangjian.accounts.roles import Perm
from dangjian.accounts.scope import has_perm_anywhere, has_perm_on
from dangjian.core.forms import add_errors
from dangjian.organizations.models import Organization
from dangjian.organizations.services import rulebook_for

from . import idnumber, services, transfers
from .forms_transfers import (
    REASONS,
    IncomingAcceptForm,
    IncomingForm,
    ReturnForm,
    TransferFilter,
    TransferForm,
)
from .models import Member, Transfer

Status = Transfer.Status


def get_transfer(request, pk: int) -> Transfer:
    """The transfer, if either side is in the user's scope; 404 otherwise."""
    return get_object_or_404(
        transfers.visible_transfers(request.user).select_related(
            "member", "from_organization", "to_organization"
        ),
        pk=pk,
    )


def manageable_member(request, pk) -> Member:
    """A member the user may see (404 otherwise) and issue a transfer for (403 otherwise)."""
    member = get_object_or_404(
        Member.objects.for_user(request.user).select_related("organization"), pk=pk
    )
    if not has_perm_on(request.user, Perm.MANAGE_MEMBERS, member.organization):
        raise PermissionDenied(_("您无权办理该党员的组织关系转接。"))
    return member


def can_manage(user, organization) -> bool:
    return organization is not None and has_perm_on(user, Perm.MANAGE_MEMBERS, organization)


@login_required
def transfer_list(request):
    if not has_perm_anywhere(request.user, Perm.VIEW_MEMBERS):
        raise PermissionDenied(_("您无权查看组织关系转接。"))
    form = TransferFilter(request.GET or None)
    form.is_valid()  # a bad value is simply ignored: the valid ones still filter
    data = getattr(form, "cleaned_data", {})
    tab = data.get("tab") or "out"
    scope = Organization.objects.for_user(request.user, Perm.VIEW_MEMBERS)
    side = "from_organization" if tab == "out" else "to_organization"
    rows = Transfer.objects.filter(**{f"{side}__in": scope})
    today = timezone.localdate()
    status = data.get("status") or ""
    if status == "expired":
        rows = rows.filter(status=Status.ISSUED, valid_until__lt=today)
    elif status:
        rows = rows.filter(status=status)
    query = (data.get("q") or "").strip()
    if query:
        rows = rows.filter(
            Q(member__name__icontains=query)
            | Q(incoming_name__icontains=query)
            | Q(letter_number__icontains=query)
        )
    rows = rows.select_related("member", "from_organization", "to_organization")
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    waiting = {
        "out": Transfer.objects.filter(from_organization__in=scope, status=Status.ISSUED).count(),
        "in": Transfer.objects.filter(to_organization__in=scope, status=Status.ISSUED).count(),
    }
    return render(
        request,
        "members/transfer_list.html",
        {
            "form": form,
            "tab": tab,
            "status": status,
            "q": query,
            "page": page,
            "waiting": waiting,
            "today": today,
            "extra_query": urlencode({"tab": tab, "status": status, "q": query}),
            "can_manage": has_perm_anywhere(request.user, Perm.MANAGE_MEMBERS),
        },
    )


@login_required
def transfer_new(request):
    if not has_perm_anywhere(request.user, Perm.MANAGE_MEMBERS):
        raise PermissionDenied(_("您无权办理组织关系转接。"))
    member_id = request.GET.get("member", "")
    if not member_id.isdigit():
        return choose_member(request)
    member = manageable_member(request, int(member_id))
    validity = int(rulebook_for(member.organization)[transfers.VALIDITY_DAYS.key])
    form = TransferForm(
        request.POST or None,
        # The member's own organization stays choosable so that the service says why not.
        destinations=transfers.destinations_for(member, include_own=True),
        validity_days=validity,
    )
    if request.method == "POST" and form.is_valid():
        try:
            transfer = transfers.issue_transfer(request.user, member, form.cleaned_data)
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(
                request,
                _("已开具组织关系介绍信（编号 %(no)s），待接收党组织办理。")
                % {"no": transfer.letter_number},
            )
            return redirect(transfer)
    picked = form["to_organization"].value()
    picked_name = (
        transfers.destinations_for(member, include_own=True)
        .filter(pk=picked)
        .values_list("name", flat=True)
        .first()
        if str(picked or "").isdigit()
        else None
    )
    return render(
        request,
        "members/transfer_form.html",
        {
            "form": form,
            "member": member,
            "picked_name": picked_name,
            "reasons": REASONS,
            "validity": validity,
            "citation": transfers.VALIDITY_DAYS.citation,
        },
    )


def choose_member(request):
    """Without ``?member=``: find the member among those the user may transfer."""
    query = request.GET.get("q", "").strip()
    results = []
    if query:
        results = (
            Member.objects.filter(
                organization__in=Organization.objects.for_user(request.user, Perm.MANAGE_MEMBERS)
            )
            .on_roster()
            .filter(name__icontains=query)
            .select_related("organization")
            .order_by("name", "id")[:30]
        )
    return render(request, "members/transfer_choose.html", {"query": query, "results": results})


@login_required
def transfer_destinations(request):
    """Search results for the destination picker: names only, from the whole tree."""
    member_id = request.GET.get("member", "")
    if not member_id.isdigit():
        raise Http404
    member = manageable_member(request, int(member_id))
    query = request.GET.get("q", "").strip()
    results = []
    if query:
        results = (
            transfers.destinations_for(member)
            .filter(name__icontains=query)
            .values("pk", "name")[:20]
        )
    return render(
        request,
        "members/transfer_pick_results.html",
        {"results": results, "field": request.GET.get("field", "")},
    )


@login_required
def transfer_incoming(request):
    organizations = Organization.objects.for_user(request.user, Perm.MANAGE_MEMBERS).active()
    if not has_perm_anywhere(request.user, Perm.MANAGE_MEMBERS):
        raise PermissionDenied(_("您无权登记组织关系转入。"))
    form = IncomingForm(
        request.POST or None,
        organizations=organizations,
        initial={"issued_on": timezone.localdate()},
    )
    if request.method == "POST" and form.is_valid():
        try:
            transfer = transfers.record_incoming(request.user, form.cleaned_data)
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("已登记系统外转入，请核对后办理接收。"))
            return redirect(transfer)
    picked = form["to_organization"].value()
    picked_name = (
        organizations.filter(pk=picked).values_list("name", flat=True).first()
        if str(picked or "").isdigit()
        else None
    )
    return render(
        request,
        "members/transfer_incoming.html",
        {"form": form, "picked_name": picked_name, "reasons": REASONS},
    )


@login_required
def transfer_detail(request, pk: int):
    transfer = get_transfer(request, pk)
    user = request.user
    is_open = transfers.is_open(transfer)
    receiver_manages = can_manage(user, transfer.to_organization)
    member_visible = (
        transfer.member_id is not None
        and Member.objects.for_user(user).filter(pk=transfer.member_id).exists()
    )
    if transfer.member_id:
        masked_id = transfer.member.masked_id_number
    else:
        masked_id = idnumber.mask(transfer.incoming_id_number)
    return render(
        request,
        "members/transfer_detail.html",
        {
            "t": transfer,
            "member_name": transfers.member_name(transfer),
            "from_name": transfers.from_name(transfer),
            "to_name": transfers.to_name(transfer),
            "masked_id": masked_id,
            "member_visible": member_visible,
            "expired": transfers.is_expired(transfer),
            "citation": transfers.VALIDITY_DAYS.citation,
            "history": transfers.history(transfer)[:100],
            "can_accept": is_open and receiver_manages,
            "can_return": is_open and receiver_manages,
            "can_cancel": is_open and can_manage(user, transfers.sending_side(transfer)),
            "can_complete": is_open
            and transfer.to_organization_id is None
            and can_manage(user, transfer.from_organization),
            "return_form": ReturnForm(),
        },
    )


@login_required
def transfer_accept(request, pk: int):
    transfer = get_transfer(request, pk)
    if transfer.from_organization_id is None:
        return accept_incoming(request, transfer)
    if request.method != "POST":
        return redirect(transfer)
    try:
        transfers.accept_transfer(request.user, transfer)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("已接收“%(name)s”的组织关系。") % {"name": transfers.member_name(transfer)},
        )
    return redirect(transfer)


def accept_incoming(request, transfer: Transfer):
    """Accepting a member from outside the system: their roster record is filled in here."""
    if not can_manage(request.user, transfer.to_organization):
        raise PermissionDenied(_("您无权接收该党员的组织关系。"))
    if not transfers.is_open(transfer):
        return redirect(transfer)
    form = IncomingAcceptForm(request.POST or None, transfer=transfer)
    if request.method == "POST" and form.is_valid():
        try:
            transfer = transfers.accept_transfer(request.user, transfer, form.cleaned_data)
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(
                request,
                _("已接收“%(name)s”的组织关系并登记入册。") % {"name": transfer.incoming_name},
            )
            return redirect(transfer)
    return render(
        request,
        "members/transfer_accept.html",
        {
            "t": transfer,
            "form": form,
            "masked_id": idnumber.mask(transfer.incoming_id_number),
            "expired": transfers.is_expired(transfer),
            "citation": transfers.VALIDITY_DAYS.citation,
        },
    )


@login_required
@require_POST
def transfer_return(request, pk: int):
    transfer = get_transfer(request, pk)
    try:
        transfers.return_transfer(request.user, transfer, request.POST.get("return_reason", ""))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("已退回，转出党组织将看到退回原因。"))
    return redirect(transfer)


@login_required
@require_POST
def transfer_cancel(request, pk: int):
    transfer = get_transfer(request, pk)
    try:
        transfers.cancel_transfer(request.user, transfer, request.POST.get("reason", "")[:300])
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("已撤回。"))
    return redirect(transfer)


@login_required
@require_POST
def transfer_complete(request, pk: int):
    transfer = get_transfer(request, pk)
    try:
        transfers.complete_outside(request.user, transfer)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("已登记办结：“%(name)s”的组织关系已转出系统。")
            % {"name": transfers.member_name(transfer)},
        )
    return redirect(transfer)


@login_required
def transfer_letter(request, pk: int):
    """The printable letter (介绍信). The full ID number only for those allowed to see it,
    and every such view goes into the audit log."""
    transfer = get_transfer(request, pk)
    if transfer.from_organization_id is None or transfer.member_id is None:
        raise Http404  # a letter from outside the system is on paper, not printed here
    if transfer.status in (Transfer.Status.RETURNED, Transfer.Status.CANCELLED):
        raise PermissionDenied(_("已退回或撤回的介绍信不能再打印。"))
    member = transfer.member
    # The letter carries the number as it was when issued.
    on_letter = transfer.incoming_id_number or member.id_number
    if services.may_unmask(request.user, member):
        services.reveal_id_number(
            request.user,
            member,
            reason=_("打印组织关系介绍信（编号 %(no)s）") % {"no": transfer.letter_number},
        )
        id_number, unmasked = on_letter, True
    else:
        id_number, unmasked = idnumber.mask(on_letter), False
    return render(
        request,
        "members/transfer_letter.html",
        {
            "t": transfer,
            "member": member,
            "age": services.age_on(member.birth_date, transfer.issued_on),
            "id_number": id_number,
            "unmasked": unmasked,
            "to_name": transfers.to_name(transfer),
            "validity_days": (transfer.valid_until - transfer.issued_on).days,
            "back": reverse("members:transfer_detail", args=[transfer.pk]),
        },
    )


@login_required
def transfer_receipt(request, pk: int):
    """The printable receipt (回执) the receiving organization sends back after accepting."""
    transfer = get_transfer(request, pk)
    if transfer.status != Status.ACCEPTED or transfer.to_organization_id is None:
        raise Http404
    return render(
        request,
        "members/transfer_receipt.html",
        {
            "t": transfer,
            "member_name": transfers.member_name(transfer),
            "from_name": transfers.from_name(transfer),
        },
    )
