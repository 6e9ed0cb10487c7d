"""Member development pages: thin views over :mod:`dangjian.development.services`.

A record (and a pipeline) is visible to those who may see development at its organization;
anyone else gets 404 (its existence is not revealed). What each may record is checked again
by the services (403 when the user may not): the branch's steps need MANAGE_DEVELOPMENT on
the branch, the higher committee's APPROVE_DEVELOPMENT on the branch's parent.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from dangjian.accounts.roles import Perm
from dangjian.accounts.scope import has_perm_on, scope_roots
from dangjian.core.flags import FLAGS, FlagContext
from dangjian.core.forms import add_errors
from dangjian.members import idnumber
from dangjian.organizations.models import Organization
from dangjian.organizations.services import StaleEdit, add_months, rulebook_for
from dangjian.organizations.views import STALE_MESSAGE

from . import exporting, services
from .forms import (
    ApplicationForm,
    AssessmentForm,
    CloseForm,
    ConversionWindowForm,
    DocumentForm,
    ExtendForm,
    MemberChoice,
    RecordFilter,
    StepForm,
    member_options,
    searched_members,
)
from .models import DevelopmentRecord, Outcome
from .pipeline import OPEN_STAGES, STEP_FLAGS, pipeline
from .steps import BY_NUMBER, STEPS, Phase, Stage

PAGE_SIZE = 30
LIST_LIMIT = 100  # overdue / due-soon people shown on the pipeline page
CONVERSION_WINDOW_MONTHS = 3  # the 拟转正 summary's default window
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# A day far enough ahead that every step flag that will ever apply to a record applies: the
# record page asks the flags themselves which steps it owes, whatever the reminder lead.
FAR_FUTURE = date(9000, 1, 1)
STAGE_SHORT = {
    Stage.APPLICANT: gettext_lazy("申请人"),
    Stage.ACTIVIST: gettext_lazy("积极分子"),
    Stage.CANDIDATE: gettext_lazy("发展对象"),
    Stage.PROBATIONARY: gettext_lazy("预备党员"),
}


# ---- scope ----


def scoped_organizations(request, permission: str = Perm.VIEW_DEVELOPMENT):
    return Organization.objects.for_user(request.user, permission)


def get_organization(request, pk: int) -> Organization:
    """The organization, if the user may see its development work; 404 otherwise."""
    return get_object_or_404(scoped_organizations(request), pk=pk)


def get_record(request, pk: int) -> DevelopmentRecord:
    """The record, if its branch is in the user's scope; 404 otherwise."""
    return get_object_or_404(
        DevelopmentRecord.objects.filter(
            organization__in=scoped_organizations(request)
        ).select_related("organization", "member"),
        pk=pk,
    )


def check(request, permission: str, organization: Organization) -> None:
    if not has_perm_on(request.user, permission, organization):
        raise PermissionDenied(_("您无权执行此操作。"))


def ancestors(request, organization: Organization):
    """The organizations above ``organization`` that the user may also see, top first."""
    return scoped_organizations(request).above(organization)


# ---- the pipeline ----


@login_required
def overview(request):
    """Where the development pages start: the pipeline of the top of the user's scope."""
    root = scope_roots(request.user, Perm.VIEW_DEVELOPMENT).order_by("path").first()
    if root is None:
        raise Http404
    return redirect("development:pipeline", root.pk)


def list_url(organization: Organization, **query) -> str:
    url = reverse("development:list", args=[organization.pk])
    query = {key: value for key, value in query.items() if value not in (None, "")}
    return f"{url}?{urlencode(query)}" if query else url


def pipeline_row(row, organization: Organization) -> dict:
    """One row of the table: its counts, each linking to the people at that stage."""
    own = row.organization is None
    target = organization if own else row.organization
    extra = {"own": 1} if own else {}
    return {
        "org": row.organization,
        "own": own,
        "drill": None if own else reverse("development:pipeline", args=[target.pk]),
        "cells": [
            (row.by_stage[stage], list_url(target, stage=stage, outcome=Outcome.OPEN, **extra))
            for stage in OPEN_STAGES
        ],
        "total": row.total,
        "total_url": list_url(target, outcome=Outcome.OPEN, **extra),
        "admitted": row.admitted_this_year,
        "converted": row.converted_this_year,
        "overdue": row.overdue,
    }


@login_required
def pipeline_view(request, pk: int):
    organization = get_organization(request, pk)
    today = timezone.localdate()
    result = pipeline(organization, today)
    return render(
        request,
        "development/pipeline.html",
        {
            "org": organization,
            "today": today,
            "stages": [STAGE_SHORT[stage] for stage in OPEN_STAGES],
            "rows": [pipeline_row(row, organization) for row in result.rows],
            "totals": pipeline_row(result.totals, organization),
            "overdue": result.overdue[:LIST_LIMIT],
            "overdue_count": len(result.overdue),
            "due_soon": result.due_soon[:LIST_LIMIT],
            "due_soon_count": len(result.due_soon),
            "ancestors": ancestors(request, organization),
            "can_open": organization.is_active
            and organization.org_type in services.DEVELOPING_TYPES
            and has_perm_on(request.user, Perm.MANAGE_DEVELOPMENT, organization),
            "window_form": ConversionWindowForm(
                initial={"until": add_months(today, CONVERSION_WINDOW_MONTHS)}
            ),
        },
    )


# ---- the list of records ----


def filtered_records(organization: Organization, data: dict):
    """The records of ``organization``'s subtree (``own``: of the organization itself)."""
    if data.get("own"):
        records = DevelopmentRecord.objects.filter(organization=organization)
    else:
        subtree = Organization.objects.within(organization)
        records = DevelopmentRecord.objects.filter(organization__in=subtree)
    if data.get("stage"):
        records = records.filter(stage=data["stage"])
    if data.get("outcome"):
        records = records.filter(outcome=data["outcome"])
    if data.get("q"):
        records = records.filter(name__contains=data["q"].strip())
    return records.select_related("organization").order_by("organization__path", "applied_on", "pk")


@login_required
def record_list(request, pk: int):
    organization = get_organization(request, pk)
    filters = RecordFilter(request.GET)
    filters.is_valid()  # a bad value drops only itself
    data = filters.cleaned_data
    records = filtered_records(organization, data)
    page = Paginator(records, PAGE_SIZE).get_page(request.GET.get("page"))
    for record in page:
        following = services.next_step(record)
        record.next_label = f"{following.number}. {following.label}" if following else ""
    query = {key: data.get(key) for key in ("stage", "outcome", "q")}
    if data.get("own"):
        query["own"] = 1
    return render(
        request,
        "development/record_list.html",
        {
            "org": organization,
            "page": page,
            "filters": filters,
            "data": data,
            "stages": Stage.choices,
            "outcomes": Outcome.choices,
            "extra_query": urlencode({k: v for k, v in query.items() if v}),
            "ancestors": ancestors(request, organization),
            "can_open": organization.is_active
            and organization.org_type in services.DEVELOPING_TYPES
            and has_perm_on(request.user, Perm.MANAGE_DEVELOPMENT, organization),
        },
    )


# ---- a new application (step 1) ----


@login_required
def record_new(request, pk: int):
    organization = get_organization(request, pk)
    check(request, Perm.MANAGE_DEVELOPMENT, organization)
    form = ApplicationForm(request.POST or None, initial={"date": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            record = services.open_record(request.user, organization, form.data_for_service())
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("已登记%(name)s的入党申请。") % {"name": record.name})
            return redirect(record)
    return render(request, "development/record_form.html", {"form": form, "org": organization})


# ---- the record's page ----


def step_details(done, people) -> list[str]:
    """What a recorded step says besides its date, one short line each."""
    lines = []
    if people:
        by_role = defaultdict(list)
        for person in people:
            by_role[person.get_role_display()].append(person.name)
        lines += [f"{role}：{'、'.join(names)}" for role, names in by_role.items()]
    if done.entitled is not None:
        lines.append(
            _("应到%(e)d人，实到%(p)d人，赞成%(y)d票")
            % {"e": done.entitled, "p": done.present or 0, "y": done.in_favour or 0}
        )
    if done.training_days is not None or done.training_hours is not None:
        lines.append(
            _("培训%(d)s天、%(h)s学时")
            % {"d": exporting.plain(done.training_days), "h": exporting.plain(done.training_hours)}
        )
    if done.notice_start and done.notice_end:
        lines.append(
            _("公示%(start)s至%(end)s")
            % {"start": done.notice_start.isoformat(), "end": done.notice_end.isoformat()}
        )
    if done.passed is not None:
        lines.append(_("政治审查合格") if done.passed else _("政治审查不合格"))
    if done.delay_reason:
        lines.append(_("延长审批理由：%(r)s") % {"r": done.delay_reason})
    return lines


def timeline(record: DevelopmentRecord, next_number: int | None) -> list[dict]:
    """The 25 steps grouped by their five phases: done, next or later."""
    done = {s.number: s for s in record.steps.select_related("recorded_by")}
    people = defaultdict(list)
    for person in record.people.all():
        people[person.step].append(person)
    phases = []
    for phase in Phase:
        items = []
        for step in STEPS:
            if step.phase != phase:
                continue
            recorded = done.get(step.number)
            items.append(
                {
                    "step": step,
                    "done": recorded,
                    "state": "done"
                    if recorded
                    else "next"
                    if step.number == next_number
                    else "later",
                    "details": step_details(recorded, people[step.number]) if recorded else [],
                }
            )
        phases.append(
            {
                "phase": phase,
                "steps": items,
                "complete": all(item["done"] for item in items),
            }
        )
    return phases


def due_steps(record: DevelopmentRecord, today: date) -> list[dict]:
    """The steps this record owes and by when, from the step flags (as the reminders say)."""
    if not record.is_open:
        return []
    ctx = FlagContext(
        organizations=Organization.objects.filter(pk=record.organization_id),
        rules=rulebook_for(record.organization),
        today=FAR_FUTURE,
    )
    due = []
    for key in STEP_FLAGS:
        flag = FLAGS[key]
        if flag.queryset(ctx).filter(pk=record.pk).exists():
            day = flag.due_of(record)
            due.append(
                {
                    "label": flag.label,
                    "due_on": day,
                    "citation": flag.citation,
                    "overdue": day < today,
                }
            )
    return sorted(due, key=lambda item: item["due_on"])


def entitled_on(record: DevelopmentRecord, day: date) -> int:
    return services.full_members_on(record.organization, day)


def new_step_form(record: DevelopmentRecord, step, book, today: date) -> StepForm:
    initial = {"date": today}
    if step.vote:
        initial["entitled"] = entitled_on(record, today)
    return StepForm(record=record, step=step, book=book, initial=initial)


def decorate_step_form(form: StepForm, record: DevelopmentRecord) -> StepForm:
    """A vote's date refreshes the hint of the branch's full members on that day (htmx)."""
    if form.step.vote:
        form.fields["date"].widget.attrs.update(
            {
                "hx-get": reverse("development:entitled", args=[record.pk]),
                "hx-trigger": "change",
                "hx-target": "#entitled-hint",
            }
        )
    return form


def detail_context(request, record: DevelopmentRecord, **forms) -> dict:
    """The record's page; ``forms`` are bound forms to show again with their errors."""
    user = request.user
    today = timezone.localdate()
    branch = record.organization
    parent = services.approver_organization(record)
    can_manage = has_perm_on(user, Perm.MANAGE_DEVELOPMENT, branch)
    can_approve = has_perm_on(user, Perm.APPROVE_DEVELOPMENT, parent)
    following = services.next_step(record)
    can_record = following is not None and (
        can_approve if following.by_higher_committee else can_manage
    )
    book = rulebook_for(branch)
    step_form = forms.pop("step_form", None)
    if step_form is None and can_record:
        step_form = new_step_form(record, following, book, today)
    if step_form is not None:
        decorate_step_form(step_form, record)
    hint_day = today
    if step_form is not None and step_form.is_bound and step_form.is_valid():
        hint_day = step_form.cleaned_data["date"]
    assessing = record.is_open and record.stage in (
        Stage.ACTIVIST,
        Stage.CANDIDATE,
        Stage.PROBATIONARY,
    )
    probationary = record.is_open and record.stage == Stage.PROBATIONARY
    may_close = (
        record.is_open
        and record.stage != Stage.FULL
        and (can_approve if record.stage == Stage.PROBATIONARY else can_manage)
    )
    context = {
        "record": record,
        "masked_phone": idnumber.mask_phone(record.phone),
        "org": branch,
        "parent": parent,
        "next": following,
        "can_record": can_record,
        "can_manage": can_manage,
        "phases": timeline(record, following.number if following else None),
        "step_form": step_form,
        "entitled_hint": entitled_on(record, hint_day)
        if following is not None and following.vote and can_record
        else None,
        "hint_day": hint_day,
        "due": due_steps(record, today),
        "assessments": record.assessments.select_related("recorded_by"),
        "documents": record.documents.select_related("recorded_by"),
        "assessment_form": AssessmentForm(initial={"date": today})
        if can_manage and assessing
        else None,
        "document_form": DocumentForm(initial={"date": today}) if can_manage else None,
        "extend_form": ExtendForm(initial={"date": today, "months": 6})
        if can_approve and probationary and not record.extension_months
        else None,
        "close_form": CloseForm(initial={"date": today}) if may_close else None,
        "close_label": _("取消预备党员资格")
        if record.stage == Stage.PROBATIONARY
        else _("终止培养"),
    }
    context.update(forms)
    return context


@login_required
def record_detail(request, pk: int):
    record = get_record(request, pk)
    return render(request, "development/record_detail.html", detail_context(request, record))


def show_again(request, record: DevelopmentRecord, **forms):
    """The record's page again, with a refused form and what was typed in it."""
    return render(
        request, "development/record_detail.html", detail_context(request, record, **forms)
    )


@login_required
@require_POST
def step_record(request, pk: int):
    record = get_record(request, pk)
    following = services.next_step(record)
    posted = request.POST.get("number", "")
    if following is None or posted != str(following.number):
        # The page was opened before someone else recorded a step (or closed the record).
        expected = following.number if following else None
        messages.error(
            request,
            _("该档案已有变化：下一步应为“%(step)s”。请核对后再填写。")
            % {"step": BY_NUMBER[expected].label if expected else _("（无）")},
        )
        return redirect(record)
    book = rulebook_for(record.organization)
    form = StepForm(request.POST, record=record, step=following, book=book)
    if form.is_valid():
        try:
            services.record_step(request.user, record, following.number, form.data_for_service())
        except StaleEdit:
            form.add_error(None, STALE_MESSAGE)
        except ValidationError as error:
            form.add_service_errors(error)
    if form.errors:
        return show_again(request, record, step_form=form)
    messages.success(
        request, _("已登记“%(step)s”。") % {"step": f"{following.number}. {following.label}"}
    )
    return redirect(f"{record.get_absolute_url()}#step-{following.number}")


@login_required
@require_GET
def entitled_hint(request, pk: int):
    """The branch's full members on the day typed (the default number entitled to vote)."""
    record = get_record(request, pk)
    try:
        day = date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        day = timezone.localdate()
    return render(
        request,
        "development/entitled_hint.html",
        {"entitled_hint": entitled_on(record, day), "hint_day": day},
    )


@login_required
@require_GET
def member_search(request, pk: int):
    """A contact/sponsor picker's options after a name search in the branch's parent subtree
    (for a large subtree, whose members are not all listed), as its ``<select>`` (htmx)."""
    record = get_record(request, pk)
    check(request, Perm.MANAGE_DEVELOPMENT, record.organization)
    name = request.GET.get("field", "")
    if not re.fullmatch(r"people_[1-9]", name):
        raise Http404
    selected = request.GET.get(name, "")
    selected = int(selected) if selected.isdigit() else None
    field = MemberChoice(queryset=None, empty_label=_("（请选择党员）"))
    members = searched_members(record, request.GET.get("q", "")[:60], [selected])
    return render(
        request,
        "development/member_select.html",
        {
            "name": name,
            "options": member_options(field, members),
            "selected": selected,
            "record": record,
        },
    )


@login_required
@require_POST
def assessment_add(request, pk: int):
    record = get_record(request, pk)
    form = AssessmentForm(request.POST)
    if form.is_valid():
        try:
            services.add_assessment(
                request.user, record, form.cleaned_data["date"], form.cleaned_data["summary"]
            )
        except ValidationError as error:
            add_errors(form, error)
    if form.errors:
        return show_again(request, record, assessment_form=form)
    messages.success(request, _("已登记考察记录。"))
    return redirect(f"{record.get_absolute_url()}#assessments")


@login_required
@require_POST
def document_add(request, pk: int):
    record = get_record(request, pk)
    form = DocumentForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.add_document(request.user, record, data["kind"], data["date"], data["title"])
        except ValidationError as error:
            add_errors(form, error)
    if form.errors:
        return show_again(request, record, document_form=form)
    messages.success(request, _("已登记入党材料。"))
    return redirect(f"{record.get_absolute_url()}#documents")


@login_required
@require_POST
def extend(request, pk: int):
    record = get_record(request, pk)
    form = ExtendForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.extend_probation(
                request.user, record, data["months"], data["date"], data["reason"]
            )
        except ValidationError as error:
            add_errors(form, error)
    if form.errors:
        return show_again(request, record, extend_form=form)
    messages.success(request, _("已延长预备期。"))
    return redirect(record)


@login_required
@require_POST
def close(request, pk: int):
    record = get_record(request, pk)
    form = CloseForm(request.POST)
    if form.is_valid():
        try:
            record = services.close_record(
                request.user, record, form.cleaned_data["date"], form.cleaned_data["reason"]
            )
        except ValidationError as error:
            add_errors(form, error)
    if form.errors:
        return show_again(request, record, close_form=form)
    messages.success(
        request, _("档案已结束：%(outcome)s。") % {"outcome": record.get_outcome_display()}
    )
    return redirect(record)


# ---- Excel summaries ----


def xlsx_response(stream, filename: str) -> FileResponse:
    return FileResponse(stream, as_attachment=True, filename=filename, content_type=XLSX)


@login_required
@require_GET
def export_candidates(request, pk: int):
    """拟发展对象 of the subtree: open records at the candidate stage (steps 7..16)."""
    organization = get_organization(request, pk)
    stream = exporting.candidates_workbook(request.user, organization, timezone.localdate())
    filename = f"拟发展对象-{organization.pk}-{timezone.localdate():%Y%m%d}.xlsx"
    return xlsx_response(stream, filename)


@login_required
@require_GET
def export_conversions(request, pk: int):
    """拟转正 of the subtree: probationary members whose probation ends by the day chosen
    (or has ended) and who are not yet full members."""
    organization = get_organization(request, pk)
    today = timezone.localdate()
    form = ConversionWindowForm(request.GET)
    until = (
        form.cleaned_data["until"]
        if form.is_valid()
        else add_months(today, CONVERSION_WINDOW_MONTHS)
    )
    stream = exporting.conversions_workbook(request.user, organization, until, today)
    filename = f"拟转正-{organization.pk}-{until:%Y%m%d}.xlsx"
    return xlsx_response(stream, filename)
