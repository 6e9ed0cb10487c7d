"""Meeting records (组织生活记录): thin views over :mod:`dangjian.orglife.services`.

A meeting is visible to those who may see its organization's organizational life, and to the
members who were expected at it; anyone else gets 404 (its existence is not revealed). What
each may change is checked again by the services (403 when the user may not).
"""

from __future__ import annotations

import io
import mimetypes
import re

import qrcode
import qrcode.image.svg
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from dangjian.accounts.roles import Perm
from dangjian.accounts.scope import has_perm_on
from dangjian.core.forms import add_errors
from dangjian.members.models import Member
from dangjian.organizations.models import Organization, OrgType
from dangjian.organizations.services import StaleEdit, rulebook_for
from dangjian.organizations.views import STALE_MESSAGE, labelled, with_version

from . import services
from .choices import AppraisalStage, MeetingKind, MeetingStatus, Presence
from .forms import (
    AttachmentForm,
    AttendeeAddForm,
    AttendeeRemoveForm,
    CheckinForm,
    CheckinOpenForm,
    DeleteForm,
    MeetingFilter,
    MeetingForm,
    MutualAppraisalForm,
    SelfAppraisalForm,
    VoteForm,
    kinds_for,
)
from .models import AppraisalResult, Attachment, Attendance, Meeting
from .rules import CHECKIN_MINUTES

PAGE_SIZE = 30
STAGE_FORMS = {
    AppraisalStage.SELF: SelfAppraisalForm,
    AppraisalStage.MUTUAL: MutualAppraisalForm,
    AppraisalStage.VOTE: VoteForm,
}
STAGE_FIELDS = {
    AppraisalStage.SELF: ["self_summary"],
    AppraisalStage.MUTUAL: ["mutual_comments"],
    AppraisalStage.VOTE: [
        "votes_excellent",
        "votes_qualified",
        "votes_basic",
        "votes_unqualified",
        "grade",
    ],
}


# ---- scope ----


def get_organization(request, pk: int) -> Organization:
    """The organization, if the user may see its organizational life; 404 otherwise."""
    return get_object_or_404(Organization.objects.for_user(request.user, Perm.VIEW_LIFE), pk=pk)


def check(request, permission: str, organization: Organization) -> None:
    if not has_perm_on(request.user, permission, organization):
        raise PermissionDenied(_("您无权执行此操作。"))


def get_meeting(request, pk: int) -> Meeting:
    """The meeting, if the user may see it (its organization, or they were expected); else 404."""
    meeting = get_object_or_404(
        Meeting.objects.select_related("organization", "host", "recorder", "counterpart"), pk=pk
    )
    try:
        services.ensure_member_can_view(request.user, meeting)
    except PermissionDenied:
        raise Http404 from None
    return meeting


def managed_meeting(request, pk: int) -> Meeting:
    meeting = get_meeting(request, pk)
    check(request, Perm.MANAGE_LIFE, meeting.organization)
    return meeting


def is_htmx(request) -> bool:
    return bool(request.headers.get("HX-Request"))


# ---- the list of an organization's meetings ----


@login_required
def meeting_list(request, pk: int):
    organization = get_organization(request, pk)
    meetings = Meeting.objects.filter(
        organization__in=Organization.objects.within(organization)
    ).select_related("organization")
    filters = MeetingFilter(request.GET)
    kind = year = None
    if filters.is_valid():
        kind = filters.cleaned_data["kind"] or None
        year = filters.cleaned_data["year"]
    # A fixed span of years: listing the distinct years of a city's meetings costs a scan.
    this_year = timezone.localdate().year
    years = list(range(this_year + 1, this_year - 6, -1))
    if kind:
        meetings = meetings.filter(kind=kind)
    if year:
        meetings = meetings.filter(date__year=year)
        if year not in years:
            years.append(year)
    page = Paginator(meetings, PAGE_SIZE).get_page(request.GET.get("page"))
    groups = (
        Organization.objects.within(organization)
        .filter(org_type=OrgType.GROUP, depth=organization.depth + 1)
        .active()
        .order_by("path")
        if organization.org_type != OrgType.GROUP
        else []
    )
    return render(
        request,
        "orglife/meeting_list.html",
        {
            "org": organization,
            "page": page,
            "filters": filters,
            "kind": kind or "",
            "year": year or "",
            "years": years,
            "kinds": MeetingKind.choices,
            "groups": groups,
            "can_record": organization.is_active
            and bool(kinds_for(organization))
            and has_perm_on(request.user, Perm.MANAGE_LIFE, organization),
            "extra_query": urlencode({"kind": kind or "", "year": year or ""}),
        },
    )


# ---- create, edit, delete ----


@login_required
def meeting_new(request, pk: int):
    organization = get_organization(request, pk)
    check(request, Perm.MANAGE_LIFE, organization)
    kinds = kinds_for(organization)
    kind = request.GET.get("kind", "")
    if kind not in dict(kinds):
        # The kind is picked first: it decides who is expected and which fields apply.
        return render(request, "orglife/meeting_kind.html", {"org": organization, "kinds": kinds})
    today = timezone.localdate()
    form = MeetingForm(
        request.POST or None,
        organization=organization,
        kind=kind,
        initial={"date": today, "status": MeetingStatus.HELD},
    )
    if request.method == "POST" and form.is_valid():
        try:
            meeting = services.create_meeting(request.user, organization, form.data_for_service())
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("已登记“%(topic)s”。") % {"topic": meeting.topic})
            return redirect(meeting)
    return render(
        request,
        "orglife/meeting_form.html",
        {"form": form, "org": organization, "kind": MeetingKind(kind)},
    )


@login_required
def meeting_edit(request, pk: int):
    meeting = managed_meeting(request, pk)
    organization = meeting.organization

    def make_form(data, instance):
        return MeetingForm(data, instance=instance, organization=organization, kind=instance.kind)

    form = make_form(request.POST or None, meeting)
    stale = None
    if request.method == "POST" and form.is_valid():
        version = form.cleaned_data["version"]
        try:
            services.update_meeting(request.user, meeting, form.data_for_service(), version)
        except StaleEdit as error:
            stale = labelled(Meeting, error.changes)
            current = Meeting.objects.get(pk=meeting.pk)
            form = make_form(with_version(request.POST, current.version), current)
            form.is_valid()
            form.add_error(None, STALE_MESSAGE)
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("已保存。"))
            return redirect(meeting)
    return render(
        request,
        "orglife/meeting_form.html",
        {
            "form": form,
            "org": organization,
            "kind": MeetingKind(meeting.kind),
            "meeting": meeting,
            "stale": stale,
        },
    )


@login_required
def meeting_delete(request, pk: int):
    meeting = managed_meeting(request, pk)
    form = DeleteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.delete_meeting(request.user, meeting, form.cleaned_data["reason"])
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("已删除“%(topic)s”。") % {"topic": meeting.topic})
            return redirect("orglife:meetings", meeting.organization_id)
    return render(request, "orglife/meeting_delete.html", {"form": form, "meeting": meeting})


# ---- the meeting's page ----


def checkin_state(request, meeting: Meeting, now=None) -> dict:
    """The sign-in panel: open (with its code and QR) or not, and whether it can be opened."""
    now = now or timezone.now()
    is_open = bool(
        meeting.checkin_code
        and meeting.checkin_opens_at
        and meeting.checkin_opens_at <= now < meeting.checkin_closes_at
    )
    state = {
        "checkin_open": is_open,
        "checkin_possible": meeting.kind != MeetingKind.TALK
        and meeting.date == timezone.localtime(now).date(),
    }
    if is_open:
        page = request.build_absolute_uri(reverse("orglife:checkin"))
        url = f"{page}?{urlencode({'code': meeting.checkin_code})}"
        state.update(
            checkin_page=page,
            checkin_url=url,
            checkin_qr=qr_svg(url),
            checkin_minutes_left=max(
                1, int((meeting.checkin_closes_at - now).total_seconds() // 60)
            ),
        )
    return state


def qr_svg(text: str) -> str:
    """An inline SVG QR code that scales to its box (no image request, no external service)."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    svg = buffer.getvalue().decode()
    svg = re.sub(r"^<\?xml[^>]*\?>\s*", "", svg)
    svg = re.sub(r'<svg width="[^"]*" height="[^"]*"', '<svg role="img"', svg, count=1)
    return mark_safe(svg)  # generated by qrcode from our own URL: no user markup


def quorum_in_force(meeting):
    """(percent, met) for the meeting's requirement, or None when it asks for no quorum."""
    from .requirements import requirements_for_organization

    for requirement in requirements_for_organization(meeting.organization):
        if requirement.kind == meeting.kind and requirement.quorum_percent:
            percent = requirement.quorum_percent
            return {"percent": percent, "met": meeting.meets_quorum(percent)}
    return None


def attendance_rows(rows, typed: dict | None = None) -> list[dict]:
    """Rows of the attendance form: what was typed (after a refused save), else the record."""
    typed = typed or {}
    out = []
    for row in rows:
        presence, leave, reason = typed.get(row.pk, (row.presence, row.leave_approved, row.reason))
        out.append({"row": row, "presence": presence, "leave": leave, "reason": reason})
    return out


def appraisal_items(meeting: Meeting, results) -> list[dict]:
    form_class = STAGE_FORMS.get(meeting.appraisal_stage)
    items = []
    for result in results:
        form = None
        if form_class is not None:
            fields = STAGE_FIELDS[meeting.appraisal_stage]
            form = form_class(
                initial={f: getattr(result, f) for f in fields}, prefix=f"r{result.pk}"
            )
        items.append({"result": result, "form": form})
    return items


def stage_progress(meeting: Meeting) -> list[dict]:
    stages = list(AppraisalStage)
    current = stages.index(meeting.appraisal_stage) if meeting.appraisal_stage else 0
    return [
        {"label": stage.label, "done": i < current, "current": i == current}
        for i, stage in enumerate(stages)
    ]


def detail_context(request, meeting: Meeting, **forms) -> dict:
    """The meeting page; ``forms`` are bound forms (or typed rows) to show again with errors."""
    user = request.user
    organization = meeting.organization
    can_view_all = has_perm_on(user, Perm.VIEW_LIFE, organization)
    can_manage = has_perm_on(user, Perm.MANAGE_LIFE, organization)
    own = Member.objects.filter(user=user).first()
    rows = meeting.attendance.select_related("member")
    if not can_view_all:
        # A member sees the record and their own attendance, not others' reasons for absence.
        rows = rows.filter(member=own) if own else rows.none()
    context = {
        "meeting": meeting,
        "org": organization,
        "can_view_all": can_view_all,
        "can_manage": can_manage,
        "rows": attendance_rows(rows, forms.pop("typed", None)),
        "attendance_errors": forms.pop("attendance_errors", None),
        "attendance_saved": forms.pop("attendance_saved", False),
        "correction_reason": forms.pop("correction_reason", ""),
        "presences": Presence.choices,
        "attachments": meeting.attachments.all(),
        "is_committee": meeting.kind == MeetingKind.COMMITTEE_MEETING,
        # The quorum in force where the meeting is held (a top organization may change it).
        "quorum": quorum_in_force(meeting),
        "is_talk": meeting.kind == MeetingKind.TALK,
        "is_appraisal": meeting.kind == MeetingKind.APPRAISAL,
    }
    if can_manage:
        context.update(checkin_state(request, meeting))
        minutes = int(rulebook_for(organization)[CHECKIN_MINUTES.key])
        context.update(
            checkin_form=CheckinOpenForm(initial={"minutes": minutes}),
            add_form=AttendeeAddForm(meeting=meeting),
            remove_form=AttendeeRemoveForm(meeting=meeting),
            attachment_form=AttachmentForm(),
        )
    if context["is_appraisal"]:
        results = meeting.appraisals.select_related("member").order_by("member__name", "id")
        if not can_view_all:
            results = results.filter(member=own) if own else results.none()
        stage_field = {
            AppraisalStage.SELF: "self_summary",
            AppraisalStage.MUTUAL: "mutual_comments",
            AppraisalStage.VOTE: "grade",
        }.get(meeting.appraisal_stage)
        results = list(results)
        context.update(
            stage_total=len(results),
            stage_complete=sum(1 for r in results if str(getattr(r, stage_field)).strip())
            if stage_field
            else len(results),
            stages=stage_progress(meeting),
            appraisal_open=can_manage and meeting.appraisal_stage in STAGE_FORMS,
            appraisals=appraisal_items(meeting, results),
        )
    context.update(forms)
    if can_manage:
        # Sign-in is for the meeting's day; before it the panel says so, after it is gone.
        context["show_checkin"] = not context["is_talk"] and bool(
            context["checkin_possible"]
            or context["checkin_open"]
            or meeting.date > timezone.localdate()
            or context["checkin_form"].errors
        )
    return context


@login_required
def meeting_detail(request, pk: int):
    meeting = get_meeting(request, pk)
    return render(request, "orglife/meeting_detail.html", detail_context(request, meeting))


def show_again(request, meeting: Meeting, status: int = 200, **forms):
    """The meeting page again, with a refused form and what was typed in it."""
    return render(
        request,
        "orglife/meeting_detail.html",
        detail_context(request, meeting, **forms),
        status=status,
    )


# ---- attendance ----


@login_required
@require_POST
def attendance_save(request, pk: int):
    """The whole attendance table as one form: presence, leave approved, reason per row."""
    meeting = managed_meeting(request, pk)
    marks, typed = [], {}
    for row in meeting.attendance.all():
        presence = request.POST.get(f"presence-{row.pk}")
        if presence is None:
            continue
        leave = request.POST.get(f"leave-{row.pk}") == "on"
        reason = request.POST.get(f"reason-{row.pk}", "").strip()[:200]
        if presence == Presence.PRESENT:
            reason = ""  # a reason is for absence or leave; present clears it
        typed[row.pk] = (presence, leave, reason)
        marks.append(services.Mark(row.pk, presence, leave, reason))
    correction = request.POST.get("correction_reason", "").strip()[:300]
    try:
        meeting = services.mark_attendance(request.user, meeting, marks, correction)
    except ValidationError as error:
        extra = {
            "typed": typed,
            "attendance_errors": error.messages,
            "correction_reason": correction,
        }
        if is_htmx(request):
            context = detail_context(request, meeting, **extra)
            return render(request, "orglife/meeting_attendance.html", context)
        return show_again(request, meeting, **extra)
    if is_htmx(request):
        meeting.refresh_from_db()
        context = detail_context(request, meeting, attendance_saved=True)
        return render(request, "orglife/meeting_attendance.html", context)
    messages.success(request, _("已保存出席情况。"))
    return redirect(f"{meeting.get_absolute_url()}#attendance")


@login_required
@require_POST
def attendee_add(request, pk: int):
    meeting = managed_meeting(request, pk)
    form = AttendeeAddForm(request.POST, meeting=meeting)
    if form.is_valid():
        try:
            services.add_attendee(
                request.user, meeting, form.cleaned_data["member"], form.cleaned_data["reason"]
            )
        except ValidationError as error:
            add_errors(form, error)
    if form.errors:
        return show_again(request, meeting, add_form=form)
    messages.success(
        request, _("已将%(name)s加入应到名单。") % {"name": form.cleaned_data["member"].name}
    )
    return redirect(f"{meeting.get_absolute_url()}#attendance")


@login_required
@require_POST
def attendee_remove(request, pk: int):
    meeting = managed_meeting(request, pk)
    form = AttendeeRemoveForm(request.POST, meeting=meeting)
    if form.is_valid():
        try:
            services.remove_attendee(
                request.user, form.cleaned_data["attendance"], form.cleaned_data["reason"]
            )
        except ValidationError as error:
            add_errors(form, error)
    if form.errors:
        return show_again(request, meeting, remove_form=form)
    messages.success(
        request,
        _("已将%(name)s移出应到名单。") % {"name": form.cleaned_data["attendance"].name},
    )
    return redirect(f"{meeting.get_absolute_url()}#attendance")


# ---- sign-in ----


@login_required
@require_POST
def checkin_open(request, pk: int):
    meeting = managed_meeting(request, pk)
    form = CheckinOpenForm(request.POST)
    if form.is_valid():
        try:
            services.open_checkin(request.user, meeting, form.cleaned_data["minutes"])
        except ValidationError as error:
            add_errors(form, error)
    if form.errors:
        return show_again(request, meeting, checkin_form=form)
    return redirect(f"{meeting.get_absolute_url()}#checkin")


@login_required
@require_POST
def checkin_close(request, pk: int):
    meeting = managed_meeting(request, pk)
    services.close_checkin(request.user, meeting)
    messages.success(request, _("已结束签到。"))
    return redirect(f"{meeting.get_absolute_url()}#checkin")


@login_required
def checkin_panel(request, pk: int):
    """The host's sign-in panel (code, QR, who has signed in), polled while it is open."""
    meeting = managed_meeting(request, pk)
    minutes = int(rulebook_for(meeting.organization)[CHECKIN_MINUTES.key])
    context = {
        "meeting": meeting,
        "can_manage": True,
        "show": bool(request.GET.get("show")),
        "checkin_form": CheckinOpenForm(initial={"minutes": minutes}),
        **checkin_state(request, meeting),
    }
    if is_htmx(request):
        return render(request, "orglife/checkin_panel.html", context)
    return render(request, "orglife/checkin_show.html", context)


@login_required
def checkin(request):
    """A member signs in on their phone with the code shown at the meeting (or its QR)."""
    form = CheckinForm(request.POST or None, initial={"code": request.GET.get("code", "")[:8]})
    if request.method == "POST" and form.is_valid():
        try:
            row = services.check_in(request.user, form.cleaned_data["code"])
        except ValidationError as error:
            form.add_error("code", error.messages)
        else:
            return redirect("orglife:checkin_done", row.pk)
    return render(request, "orglife/checkin.html", {"form": form})


@login_required
def checkin_done(request, pk: int):
    row = get_object_or_404(
        Attendance.objects.select_related("meeting", "meeting__organization"),
        pk=pk,
        member__user=request.user,
        checked_in_at__isnull=False,
    )
    return render(request, "orglife/checkin_done.html", {"row": row, "meeting": row.meeting})


@login_required
def my_life(request):
    """A member's own organizational life: the meetings they were expected at."""
    member = Member.objects.filter(user=request.user).select_related("organization").first()
    page = None
    year_stats = None
    if member is not None:
        rows = (
            Attendance.objects.filter(member=member)
            .select_related("meeting", "meeting__organization")
            .order_by("-meeting_date", "-id")
        )
        page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
        year = timezone.localdate().year
        held = rows.filter(meeting_date__year=year, meeting__status=MeetingStatus.HELD)
        year_stats = {
            "year": year,
            "expected": held.count(),
            "present": held.filter(presence=Presence.PRESENT).count(),
        }
    return render(
        request,
        "orglife/meeting_my.html",
        {"member": member, "page": page, "year_stats": year_stats},
    )


# ---- 民主评议党员 ----


@login_required
@require_POST
def appraisal_save(request, pk: int, result_pk: int):
    meeting = managed_meeting(request, pk)
    result = get_object_or_404(
        AppraisalResult.objects.select_related("member"), pk=result_pk, meeting=meeting
    )
    form_class = STAGE_FORMS.get(meeting.appraisal_stage)
    if form_class is None:
        raise Http404
    form = form_class(request.POST, prefix=f"r{result.pk}")
    saved = False
    if form.is_valid():
        try:
            result = services.save_appraisal(request.user, result, form.cleaned_data)
        except ValidationError as error:
            add_errors(form, error)
        else:
            saved = True
    if is_htmx(request):
        return render(
            request,
            "orglife/appraisal_row.html",
            {
                "meeting": meeting,
                "item": {"result": result, "form": form},
                "saved": saved,
                "appraisal_open": True,
                "can_view_all": True,
            },
        )
    if not saved:
        for message in form.non_field_errors() or [_("请检查填写的内容。")]:
            messages.error(request, f"{result.member.name}：{message}")
    else:
        messages.success(request, _("已保存%(name)s的评议内容。") % {"name": result.member.name})
    return redirect(f"{meeting.get_absolute_url()}#appraisal")


@login_required
@require_POST
def appraisal_advance(request, pk: int):
    meeting = managed_meeting(request, pk)
    try:
        meeting = services.advance_appraisal(request.user, meeting)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(
            request,
            _("评议已进入“%(stage)s”。") % {"stage": AppraisalStage(meeting.appraisal_stage).label},
        )
    return redirect(f"{meeting.get_absolute_url()}#appraisal")


# ---- attachments ----


@login_required
@require_POST
def attachment_add(request, pk: int):
    meeting = managed_meeting(request, pk)
    form = AttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.add_attachment(request.user, meeting, form.cleaned_data["file"])
        except ValidationError as error:
            add_errors(form, error)
    if form.errors:
        return show_again(request, meeting, attachment_form=form)
    messages.success(request, _("已上传附件。"))
    return redirect(f"{meeting.get_absolute_url()}#attachments")


def get_attachment(request, pk: int) -> Attachment:
    attachment = get_object_or_404(Attachment, pk=pk)
    attachment.meeting = get_meeting(request, attachment.meeting_id)
    return attachment


@login_required
def attachment_download(request, pk: int):
    """The file, to those who may see the meeting, as a download under its original name."""
    attachment = get_attachment(request, pk)
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    content_type = mimetypes.guess_type(attachment.original_name)[0] or "application/octet-stream"
    return FileResponse(
        handle,
        as_attachment=True,
        filename=attachment.original_name,
        content_type=content_type,
    )


@login_required
@require_POST
def attachment_delete(request, pk: int):
    attachment = get_attachment(request, pk)
    check(request, Perm.MANAGE_LIFE, attachment.meeting.organization)
    services.delete_attachment(request.user, attachment)
    messages.success(request, _("已删除附件。"))
    return redirect(f"{attachment.meeting.get_absolute_url()}#attachments")
