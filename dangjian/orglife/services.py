"""Recording organizational life: meetings, their attendance, sign-in, appraisals, attachments.

Every write checks the actor's scope, runs in one transaction with its audit event, and keeps
the meeting's counts and the members' "last took part" dates in step with attendance.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import PurePath

from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, F, Max, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from dangjian.accounts.roles import Perm
from dangjian.audit.models import AuditAction
from dangjian.audit.services import record, snapshot
from dangjian.members.choices import Standing
from dangjian.members.models import Member, Transfer
from dangjian.organizations.models import BRANCH_TYPES, Organization, OrgType
from dangjian.organizations.services import (
    RuleViolation,
    StaleEdit,
    changes_since,
    require,
    require_active,
    rulebook_for,
)

from .choices import AppraisalGrade, AppraisalStage, MeetingKind, MeetingStatus, Presence
from .models import AppraisalResult, Attachment, Attendance, Meeting
from .requirements import DEFAULTS
from .rules import ATTACHMENT_MAX_MB, CHECKIN_MINUTES

# Members expected at branch-wide meetings: on the roster and reachable (not lost, not out).
EXPECTED_STANDINGS = (Standing.NORMAL, Standing.FLOATING)
MEETING_FIELDS = [
    "kind",
    "status",
    "date",
    "place",
    "topic",
    "host",
    "recorder",
    "counterpart",
    "minutes",
    "resolutions",
]
# Attachments: documents and pictures only, each recognised by its first bytes as well.
ATTACHMENT_TYPES = {
    ".pdf": (b"%PDF",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
    ".png": (b"\x89PNG\r\n\x1a\n",),
    ".docx": (b"PK\x03\x04",),
    ".xlsx": (b"PK\x03\x04",),
    ".pptx": (b"PK\x03\x04",),
    ".doc": (b"\xd0\xcf\x11\xe0",),
    ".xls": (b"\xd0\xcf\x11\xe0",),
}


def check_kind_fits(kind: str, organization: Organization) -> None:
    """党小组会 is held by a 党小组; everything else by a branch or a general branch."""
    if kind == MeetingKind.GROUP_MEETING:
        if organization.org_type != OrgType.GROUP:
            raise RuleViolation(
                _("党小组会只能由党小组召开。"), DEFAULTS[MeetingKind.GROUP_MEETING].citation
            )
    elif organization.org_type not in (*BRANCH_TYPES, OrgType.GENERAL_BRANCH):
        raise RuleViolation(
            _("%(kind)s由党支部（党总支）组织，不能记在“%(org)s”名下。")
            % {"kind": MeetingKind(kind).label, "org": organization.name},
            DEFAULTS.get(kind).citation if kind in DEFAULTS else "",
        )


def meeting_holder(organization: Organization) -> Organization:
    """Whose members take part: a 党小组's branch, otherwise the organization itself."""
    if organization.org_type == OrgType.GROUP:
        return Organization.objects.get(path=organization.parent_path)
    return organization


def participants(organization: Organization):
    """Members who may host, record, talk or be added at ``organization``'s meetings: the
    branch's roster (a 党小组's branch), or a general branch's whole subtree."""
    holder = meeting_holder(organization)
    if holder.org_type == OrgType.GENERAL_BRANCH:
        return Member.objects.within(holder).on_roster()
    return Member.objects.filter(organization=holder)


def roster_of(organization: Organization):
    """Members whose meetings ``organization`` holds: a group's own members (still on its
    branch's roster), a general branch's whole subtree, or the branch's own roster."""
    if organization.org_type == OrgType.GROUP:
        return Member.objects.filter(
            party_group=organization, organization__path=organization.parent_path
        )
    if organization.org_type == OrgType.GENERAL_BRANCH:
        return Member.objects.within(organization)
    return Member.objects.filter(organization=organization)


@dataclass(frozen=True)
class Expected:
    member: Member | None
    name: str


def expected_attendees(
    organization: Organization,
    kind: str,
    on: date,
    host: Member | None = None,
    counterpart: Member | None = None,
) -> list[Expected]:
    """Who should attend, from the membership on the day: the committee for a 支委会, the
    group for a 党小组会, the two people for a 谈心谈话, otherwise the branch's members."""
    if kind == MeetingKind.TALK:
        return [Expected(m, m.name) for m in (host, counterpart) if m is not None]
    if kind == MeetingKind.COMMITTEE_MEETING:
        seats = organization.committee_members.filter(
            Q(started_on__isnull=True) | Q(started_on__lte=on),
            Q(ended_on__isnull=True) | Q(ended_on__gt=on),
        ).order_by("post_rank", "id")
        names = list(dict.fromkeys(seat.name for seat in seats))
        members = {
            m.name: m
            for m in organization.members.filter(name__in=names, standing__in=EXPECTED_STANDINGS)
        }
        return [Expected(members.get(name), name) for name in names]
    members = roster_of(organization).filter(standing__in=EXPECTED_STANDINGS)
    if organization.org_type in BRANCH_TYPES:
        members = members_on(organization, on)
    members = members.filter(joined_on__lte=on).order_by("name", "id")
    return [Expected(m, m.name) for m in members]


def members_on(branch: Organization, on: date):
    """The branch's roster as it stood on ``on``: today's roster without those whose transfer
    in was accepted later, with those whose transfer out was accepted later."""
    later = Transfer.objects.filter(status=Transfer.Status.ACCEPTED, decided_on__gt=on)
    arrived_later = later.filter(to_organization=branch, member__isnull=False)
    left_later = later.filter(from_organization=branch, member__isnull=False)
    return Member.objects.filter(
        Q(organization=branch, standing__in=EXPECTED_STANDINGS)
        & ~Q(pk__in=arrived_later.values("member"))
        | Q(pk__in=left_later.values("member"))
    )


def refresh_counts(meeting: Meeting) -> None:
    counts = meeting.attendance.aggregate(
        expected=Count("pk"), present=Count("pk", filter=Q(presence=Presence.PRESENT))
    )
    Meeting.objects.filter(pk=meeting.pk).update(
        expected_count=counts["expected"], present_count=counts["present"]
    )
    meeting.expected_count, meeting.present_count = counts["expected"], counts["present"]


def update_participation(members) -> int:
    """Set each of ``members``' last organizational-life day from their attendance: the
    latest held meeting they were present at (one UPDATE)."""
    last = (
        Attendance.objects.filter(
            member=OuterRef("pk"),
            presence=Presence.PRESENT,
            meeting__status=MeetingStatus.HELD,
        )
        .order_by()
        .values("member")
        .annotate(last=Max("meeting_date"))
        .values("last")
    )
    return members.update(last_participated_on=Subquery(last))


def refresh_participation(member_ids) -> None:
    update_participation(Member.objects.filter(pk__in=list(member_ids)))


def _meeting_members(meeting: Meeting) -> list[int]:
    return list(meeting.attendance.exclude(member=None).values_list("member_id", flat=True))


def _clean_meeting(
    organization: Organization, data: dict, today: date, recorded: Meeting | None = None
) -> None:
    errors: dict[str, list[str]] = {}
    kind = data.get("kind")
    if data.get("status") == MeetingStatus.HELD and data.get("date") and data["date"] > today:
        errors.setdefault("date", []).append(_("尚未到来的日期只能登记为“计划召开”。"))
    if kind == MeetingKind.TALK:
        if not data.get("host") or not data.get("counterpart"):
            errors.setdefault("counterpart", []).append(_("谈心谈话须填写谈话人和谈话对象。"))
        elif data["host"] == data["counterpart"]:
            errors.setdefault("counterpart", []).append(_("谈话人和谈话对象不能是同一人。"))
    holder = meeting_holder(organization)
    for field in ("host", "recorder", "counterpart"):
        person = data.get(field)
        if (
            recorded is not None
            and person is not None
            and person.pk == getattr(recorded, f"{field}_id")
        ):
            continue  # kept as recorded, though they may since have been transferred
        if person is not None and not participants(organization).filter(pk=person.pk).exists():
            errors.setdefault(field, []).append(
                _("%(name)s不是“%(org)s”的党员。") % {"name": person.name, "org": holder.name}
            )
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def create_meeting(actor, organization: Organization, data: dict, today: date | None = None):
    """Record a meeting (held, or planned ahead so members can sign in) with its expected
    attendees taken from the membership on its date."""
    today = today or timezone.localdate()
    require(actor, Perm.MANAGE_LIFE, organization)
    require_active(organization)
    check_kind_fits(data["kind"], organization)
    data = {"status": MeetingStatus.HELD, **data}
    if data["kind"] == MeetingKind.APPRAISAL:
        # An appraisal counts once its vote is recorded: it starts at the self-appraisal.
        data["status"] = MeetingStatus.PLANNED
    _clean_meeting(organization, data, today)
    meeting = Meeting(organization=organization, created_by=actor)
    for field in MEETING_FIELDS:
        if field in data:
            setattr(meeting, field, data[field])
    if meeting.kind == MeetingKind.APPRAISAL:
        meeting.appraisal_stage = AppraisalStage.SELF
    meeting.full_clean(exclude=["organization", "created_by"])
    meeting.save()
    expected = expected_attendees(
        organization, meeting.kind, meeting.date, meeting.host, meeting.counterpart
    )
    # A recorded talk happened between the two people: both were there.
    presence = Presence.PRESENT if meeting.kind == MeetingKind.TALK else Presence.UNMARKED
    Attendance.objects.bulk_create(
        Attendance(
            meeting=meeting,
            member=e.member,
            name=e.name,
            presence=presence,
            meeting_date=meeting.date,
        )
        for e in expected
    )
    if meeting.kind == MeetingKind.APPRAISAL:
        AppraisalResult.objects.bulk_create(
            AppraisalResult(meeting=meeting, member=e.member) for e in expected if e.member
        )
    refresh_counts(meeting)
    refresh_participation(_meeting_members(meeting))
    record(AuditAction.CREATE, actor=actor, instance=meeting, after=snapshot(meeting))
    return meeting


def _delete_file_after_commit(field) -> None:
    """Remove a stored file only once the deletion of its row is committed."""
    storage, name = field.storage, field.name
    transaction.on_commit(lambda: storage.delete(name))


def _locked(meeting: Meeting) -> Meeting:
    return Meeting.objects.select_for_update(of=("self",)).get(pk=meeting.pk)


@transaction.atomic
def update_meeting(actor, meeting: Meeting, data: dict, version: int, today: date | None = None):
    today = today or timezone.localdate()
    current = _locked(meeting)
    require(actor, Perm.MANAGE_LIFE, current.organization)
    require_active(current.organization)
    if current.version != version:
        raise StaleEdit(changes_since(current, version))
    if "kind" in data and data["kind"] != current.kind:
        raise ValidationError({"kind": [_("记录的类型不能修改；请删除后重新登记。")]})
    merged = {f: getattr(current, f) for f in MEETING_FIELDS} | data
    if current.kind == MeetingKind.APPRAISAL:
        merged["status"] = current.status  # follows the appraisal's stages
    _clean_meeting(current.organization, merged, today, recorded=current)
    before = snapshot(current)
    for field in MEETING_FIELDS:
        setattr(current, field, merged[field])
    current.full_clean(exclude=["organization", "created_by"])
    current.version = F("version") + 1
    current.save()
    current.refresh_from_db()
    if current.kind == MeetingKind.TALK and (
        current.host_id != before["host"] or current.counterpart_id != before["counterpart"]
    ):
        # A talk's attendance is its two people: it follows a corrected 谈话人 or 谈话对象.
        earlier = _meeting_members(current)
        current.attendance.all().delete()
        Attendance.objects.bulk_create(
            Attendance(
                meeting=current,
                member=e.member,
                name=e.name,
                presence=Presence.PRESENT,
                meeting_date=current.date,
            )
            for e in expected_attendees(
                current.organization, current.kind, current.date, current.host, current.counterpart
            )
        )
        refresh_counts(current)
        refresh_participation(set(earlier) | set(_meeting_members(current)))
    if current.date != date.fromisoformat(before["date"]) or current.status != before["status"]:
        current.attendance.update(meeting_date=current.date)
        refresh_participation(_meeting_members(current))
    record(
        AuditAction.UPDATE, actor=actor, instance=current, before=before, after=snapshot(current)
    )
    return current


@transaction.atomic
def delete_meeting(actor, meeting: Meeting, reason: str) -> None:
    current = _locked(meeting)
    require(actor, Perm.MANAGE_LIFE, current.organization)
    if not reason.strip():
        raise ValidationError({"reason": [_("请说明删除原因。")]})
    members = _meeting_members(current)
    before = snapshot(current)
    organization = current.organization
    for attachment in current.attachments.all():
        _delete_file_after_commit(attachment.file)
    current.delete()
    refresh_participation(members)
    record(
        AuditAction.DELETE,
        actor=actor,
        instance=meeting,
        organization=organization,
        before=before,
        reason=reason,
    )


@dataclass(frozen=True)
class Mark:
    """One attendee's presence as the clerk records it."""

    attendance_id: int
    presence: str
    leave_approved: bool = False
    reason: str = ""


def _needs_reason(meeting: Meeting, row: Attendance, mark: Mark) -> bool:
    """Changing what a member signed in themselves, or the record of a meeting already held
    before today, is a correction: it needs a reason for the audit trail."""
    if row.checked_in_at is not None and mark.presence != Presence.PRESENT:
        return True
    return (
        meeting.is_held
        and meeting.date < timezone.localdate()
        and row.presence
        not in (
            Presence.UNMARKED,
            mark.presence,
        )
    )


@transaction.atomic
def mark_attendance(actor, meeting: Meeting, marks: list[Mark], correction_reason: str = ""):
    """Record who was present, on leave (approved or not) or absent; audited row by row."""
    current = _locked(meeting)
    require(actor, Perm.MANAGE_LIFE, current.organization)
    rows = {a.pk: a for a in current.attendance.select_for_update(of=("self",))}
    errors = []
    changed = []
    for mark in marks:
        row = rows.get(mark.attendance_id)
        if row is None:
            raise ValidationError(_("出席记录不属于本次会议。"))
        if mark.presence not in Presence.values:
            errors.append(_("%(name)s：出席情况无效。") % {"name": row.name})
            continue
        if mark.presence in (Presence.LEAVE, Presence.ABSENT) and not mark.reason.strip():
            errors.append(_("%(name)s：请假或缺席须注明原因。") % {"name": row.name})
            continue
        new = (mark.presence, mark.presence == Presence.LEAVE and mark.leave_approved)
        reason = "" if mark.presence == Presence.PRESENT else mark.reason.strip()
        if new == (row.presence, row.leave_approved) and reason == row.reason:
            continue
        if _needs_reason(current, row, mark) and not correction_reason.strip():
            errors.append(
                _("%(name)s：更正已签到或已召开会议的出席记录须说明更正原因。") % {"name": row.name}
            )
            continue
        changed.append((row, mark))
    if errors:
        raise ValidationError(errors)
    for row, mark in changed:
        before = snapshot(row, ["presence", "leave_approved", "reason"])
        row.presence = mark.presence
        row.leave_approved = mark.presence == Presence.LEAVE and mark.leave_approved
        row.reason = "" if mark.presence == Presence.PRESENT else mark.reason.strip()
        row.save(update_fields=["presence", "leave_approved", "reason"])
        record(
            AuditAction.UPDATE,
            actor=actor,
            instance=row,
            organization=current.organization,
            before=before,
            after=snapshot(row, ["presence", "leave_approved", "reason"]),
            reason=correction_reason.strip(),
        )
    refresh_counts(current)
    refresh_participation([row.member_id for row, _mark in changed if row.member_id])
    return current


@transaction.atomic
def add_attendee(actor, meeting: Meeting, member: Member, reason: str) -> Attendance:
    """Add somebody the membership on the day missed (e.g. a member transferred in)."""
    current = _locked(meeting)
    require(actor, Perm.MANAGE_LIFE, current.organization)
    if not reason.strip():
        raise ValidationError({"reason": [_("请说明增加应到人员的原因。")]})
    if current.attendance.filter(member=member).exists():
        raise ValidationError({"member": [_("%(name)s已在应到名单中。") % {"name": member.name}]})
    if not participants(current.organization).filter(pk=member.pk).exists():
        raise ValidationError({"member": [_("只能增加本支部的党员。")]})
    row = Attendance.objects.create(
        meeting=current, member=member, name=member.name, meeting_date=current.date
    )
    if current.kind == MeetingKind.APPRAISAL and current.appraisal_stage != AppraisalStage.DONE:
        AppraisalResult.objects.get_or_create(meeting=current, member=member)
    refresh_counts(current)
    record(
        AuditAction.CREATE,
        actor=actor,
        instance=row,
        organization=current.organization,
        after=snapshot(row),
        reason=reason.strip(),
    )
    return row


@transaction.atomic
def remove_attendee(actor, attendance: Attendance, reason: str) -> None:
    current = _locked(attendance.meeting)
    require(actor, Perm.MANAGE_LIFE, current.organization)
    if not reason.strip():
        raise ValidationError({"reason": [_("请说明移出应到名单的原因。")]})
    row = current.attendance.get(pk=attendance.pk)
    before = snapshot(row)
    row.delete()
    if current.kind == MeetingKind.APPRAISAL and current.appraisal_stage != AppraisalStage.DONE:
        # Nobody is appraised at a meeting they are not expected at.
        current.appraisals.filter(member_id=row.member_id).delete()
    refresh_counts(current)
    if row.member_id:
        refresh_participation([row.member_id])
    record(
        AuditAction.DELETE,
        actor=actor,
        instance=attendance,
        organization=current.organization,
        before=before,
        reason=reason.strip(),
    )


# ---- sign-in on the phone ----


def _new_code(now: datetime) -> str:
    for _attempt in range(20):
        code = f"{secrets.randbelow(10**6):06d}"
        clash = Meeting.objects.filter(
            checkin_code=code, checkin_opens_at__lte=now, checkin_closes_at__gt=now
        )
        if not clash.exists():
            return code
    raise RuntimeError("no free sign-in code")


@transaction.atomic
def open_checkin(actor, meeting: Meeting, minutes: int | None = None, now: datetime | None = None):
    """Open sign-in for ``minutes`` (default from the rules): a short code, shown with its QR."""
    now = now or timezone.now()
    current = _locked(meeting)
    require(actor, Perm.MANAGE_LIFE, current.organization)
    if current.kind == MeetingKind.TALK:
        raise ValidationError(_("谈心谈话不需要签到。"))
    if current.date != timezone.localtime(now).date():
        raise ValidationError(_("只能在会议当天开放签到。"))
    minutes = minutes or int(rulebook_for(current.organization)[CHECKIN_MINUTES.key])
    if not 5 <= minutes <= 240:
        raise ValidationError(_("签到时长应在5到240分钟之间。"))
    status_before = current.status
    current.checkin_code = _new_code(now)
    current.checkin_opens_at = now
    current.checkin_closes_at = now + timedelta(minutes=minutes)
    fields = ["checkin_code", "checkin_opens_at", "checkin_closes_at"]
    if current.status == MeetingStatus.PLANNED and current.kind != MeetingKind.APPRAISAL:
        # Sign-in opens at the meeting itself: it is being held (an appraisal is held only
        # once its vote is recorded).
        current.status = MeetingStatus.HELD
        fields.append("status")
    current.save(update_fields=fields)
    record(
        AuditAction.UPDATE,
        actor=actor,
        instance=current,
        before={"status": status_before},
        after={"checkin_opens_at": now.isoformat(), "minutes": minutes, "status": current.status},
        reason=_("开放签到"),
    )
    return current


@transaction.atomic
def close_checkin(actor, meeting: Meeting, now: datetime | None = None) -> Meeting:
    now = now or timezone.now()
    current = _locked(meeting)
    require(actor, Perm.MANAGE_LIFE, current.organization)
    if current.checkin_closes_at and current.checkin_closes_at > now:
        current.checkin_closes_at = now
        current.save(update_fields=["checkin_closes_at"])
        record(
            AuditAction.UPDATE,
            actor=actor,
            instance=current,
            after={"checkin_closes_at": now.isoformat()},
            reason=_("结束签到"),
        )
    return current


class CheckinError(ValidationError):
    pass


CHECKIN_MAX_FAILURES = 10
CHECKIN_LOCK_SECONDS = 15 * 60


@transaction.atomic
def check_in(user, code: str, now: datetime | None = None) -> Attendance:
    """A member signs in to the meeting whose open window shows ``code``."""
    now = now or timezone.now()
    member = getattr(user, "member", None) if user.is_authenticated else None
    if member is None:
        raise CheckinError(_("您的账号没有关联党员信息，无法签到。请联系党务工作者。"))
    code = (code or "").strip()
    failures_key = f"orglife:checkin-failures:{member.pk}"
    if cache.get(failures_key, 0) >= CHECKIN_MAX_FAILURES:
        # Six digits could otherwise be guessed by script within a sign-in window.
        raise CheckinError(_("签到码输错次数过多，请15分钟后再试，或请主持人登记。"))
    meeting = (
        Meeting.objects.select_for_update(of=("self",))
        .filter(checkin_code=code, checkin_opens_at__lte=now, checkin_closes_at__gt=now)
        .filter(attendance__member=member)
        .first()
    )
    if meeting is None:
        cache.add(failures_key, 0, CHECKIN_LOCK_SECONDS)
        cache.incr(failures_key)
        if not Meeting.objects.filter(
            checkin_code=code, checkin_opens_at__lte=now, checkin_closes_at__gt=now
        ).exists():
            raise CheckinError(_("签到码无效或签到已结束。"))
        raise CheckinError(_("您不在本次会议的应到名单中，请联系会议主持人。"))
    row = meeting.attendance.select_for_update(of=("self",)).get(member=member)
    if row.presence != Presence.PRESENT:
        row.presence = Presence.PRESENT
        row.leave_approved = False
        row.reason = ""
        row.checked_in_at = now
        row.save(update_fields=["presence", "leave_approved", "reason", "checked_in_at"])
        refresh_counts(meeting)
        refresh_participation([member.pk])
        record(
            AuditAction.UPDATE,
            actor=user,
            instance=row,
            organization=meeting.organization,
            after={"presence": Presence.PRESENT, "checked_in_at": now.isoformat()},
            reason=_("本人签到"),
        )
    return row


# ---- 民主评议党员: self → mutual → vote ----

STAGE_ORDER = [AppraisalStage.SELF, AppraisalStage.MUTUAL, AppraisalStage.VOTE]


@transaction.atomic
def save_appraisal(actor, result: AppraisalResult, data: dict) -> AppraisalResult:
    """Record one member's self-appraisal, mutual comments or votes, as the stage allows."""
    meeting = _locked(result.meeting)
    require(actor, Perm.MANAGE_LIFE, meeting.organization)
    current = meeting.appraisals.select_for_update(of=("self",)).get(pk=result.pk)
    stage = meeting.appraisal_stage
    allowed = {
        AppraisalStage.SELF: ["self_summary"],
        AppraisalStage.MUTUAL: ["self_summary", "mutual_comments"],
        AppraisalStage.VOTE: [
            "mutual_comments",
            "votes_excellent",
            "votes_qualified",
            "votes_basic",
            "votes_unqualified",
            "grade",
        ],
    }.get(stage, [])
    refused = [f for f in data if f not in allowed]
    if refused:
        raise ValidationError(
            _("评议已进入“%(stage)s”阶段，不能再修改这些内容。")
            % {"stage": AppraisalStage(stage).label}
        )
    before = snapshot(current)
    for field, value in data.items():
        setattr(current, field, value)
    if current.grade and current.grade not in AppraisalGrade.values:
        raise ValidationError({"grade": [_("评议结果无效。")]})
    votes = (
        current.votes_excellent
        + current.votes_qualified
        + current.votes_basic
        + current.votes_unqualified
    )
    if votes > meeting.expected_count:
        raise ValidationError(
            _("%(name)s的测评票数合计%(votes)d张，超过应到人数%(n)d。")
            % {"name": current.member.name, "votes": votes, "n": meeting.expected_count}
        )
    current.save()
    record(
        AuditAction.UPDATE,
        actor=actor,
        instance=current,
        organization=meeting.organization,
        before=before,
        after=snapshot(current),
    )
    return current


@transaction.atomic
def advance_appraisal(actor, meeting: Meeting, today: date | None = None) -> Meeting:
    """Move to the next stage once the current one is complete for every member; finishing
    the vote marks the appraisal held (it then counts toward the yearly requirement)."""
    today = today or timezone.localdate()
    current = _locked(meeting)
    require(actor, Perm.MANAGE_LIFE, current.organization)
    if current.kind != MeetingKind.APPRAISAL or current.appraisal_stage == AppraisalStage.DONE:
        raise ValidationError(_("该记录不在评议进行中。"))
    results = current.appraisals.select_related("member")
    stage = current.appraisal_stage
    if stage == AppraisalStage.SELF:
        missing = [r.member.name for r in results if not r.self_summary.strip()]
        problem = _("以下党员尚未完成个人自评：")
    elif stage == AppraisalStage.MUTUAL:
        missing = [r.member.name for r in results if not r.mutual_comments.strip()]
        problem = _("以下党员尚未完成互评：")
    else:
        missing = [r.member.name for r in results if not r.grade]
        problem = _("以下党员尚未确定评议结果：")
    if missing:
        raise ValidationError(problem + "、".join(missing))
    before = snapshot(current)
    if stage == AppraisalStage.VOTE:
        if current.date > today:
            raise ValidationError(_("民主测评的日期尚未到来。"))
        current.appraisal_stage = AppraisalStage.DONE
        current.status = MeetingStatus.HELD
    else:
        current.appraisal_stage = STAGE_ORDER[STAGE_ORDER.index(stage) + 1]
    current.version = F("version") + 1
    current.save()
    current.refresh_from_db()
    if current.status == MeetingStatus.HELD:
        refresh_participation(_meeting_members(current))
    record(
        AuditAction.UPDATE, actor=actor, instance=current, before=before, after=snapshot(current)
    )
    return current


# ---- attachments ----


def check_attachment(uploaded, max_mb: int) -> str:
    """The file's extension if it is an allowed type within the size limit; else a clear error."""
    name = PurePath(uploaded.name or "").name
    suffix = PurePath(name).suffix.lower()
    if suffix not in ATTACHMENT_TYPES:
        raise ValidationError(
            _("不支持的附件类型“%(suffix)s”。可上传：%(allowed)s。")
            % {"suffix": suffix or name, "allowed": "、".join(sorted(ATTACHMENT_TYPES))}
        )
    if uploaded.size > max_mb * 1024 * 1024:
        raise ValidationError(_("附件“%(name)s”超过 %(mb)d MB。") % {"name": name, "mb": max_mb})
    uploaded.seek(0)
    head = uploaded.read(16)
    uploaded.seek(0)
    if not any(head.startswith(magic) for magic in ATTACHMENT_TYPES[suffix]):
        raise ValidationError(_("附件“%(name)s”的内容与扩展名不符。") % {"name": name})
    return suffix


@transaction.atomic
def add_attachment(actor, meeting: Meeting, uploaded) -> Attachment:
    current = _locked(meeting)
    require(actor, Perm.MANAGE_LIFE, current.organization)
    max_mb = int(rulebook_for(current.organization)[ATTACHMENT_MAX_MB.key])
    suffix = check_attachment(uploaded, max_mb)
    original = PurePath(uploaded.name).name[:200]
    # Stored under a random name: the original name is kept for display and download only.
    uploaded.name = secrets.token_hex(12) + suffix
    attachment = Attachment.objects.create(
        meeting=current,
        file=uploaded,
        original_name=original,
        content_type=getattr(uploaded, "content_type", "") or "application/octet-stream",
        size=uploaded.size,
        uploaded_by=actor,
    )
    record(
        AuditAction.CREATE,
        actor=actor,
        instance=attachment,
        organization=current.organization,
        after={"meeting": current.pk, "name": original, "size": attachment.size},
    )
    return attachment


@transaction.atomic
def delete_attachment(actor, attachment: Attachment) -> None:
    current = _locked(attachment.meeting)
    require(actor, Perm.MANAGE_LIFE, current.organization)
    before = {"meeting": current.pk, "name": attachment.original_name, "size": attachment.size}
    _delete_file_after_commit(attachment.file)
    attachment.delete()
    record(
        AuditAction.DELETE,
        actor=actor,
        instance=attachment,
        organization=current.organization,
        before=before,
    )


def ensure_member_can_view(user, meeting: Meeting) -> None:
    """Members see the meetings they were expected at; clerks see their subtree's."""
    from dangjian.accounts.scope import has_perm_on

    if has_perm_on(user, Perm.VIEW_LIFE, meeting.organization):
        return
    member = getattr(user, "member", None)
    if member is not None and meeting.attendance.filter(member=member).exists():
        return
    raise PermissionDenied
