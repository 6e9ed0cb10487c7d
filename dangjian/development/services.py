"""Recording member development step by step, each step checked against the rules.

``open_record`` records step 1 (the application); ``record_step`` every later step, in order,
each on a date not before the previous one. A step that breaks a rule is refused with a
:class:`~dangjian.organizations.services.RuleViolation` naming the rule and its citation.
The branch's steps need MANAGE_DEVELOPMENT on the branch; the higher committee's steps
(filing, pre-review, the talk before approval, approval) need APPROVE_DEVELOPMENT on the
branch's parent. Approval as probationary puts the person on the roster; approval of the
conversion makes them a full member there. Every change runs in one transaction, audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from dangjian.accounts.roles import Perm
from dangjian.audit.models import AuditAction
from dangjian.audit.services import record as audit
from dangjian.audit.services import snapshot
from dangjian.members import idnumber
from dangjian.members.choices import Membership, Standing
from dangjian.members.models import Member, RewardOrPunishment
from dangjian.members.services import (
    age_on,
    check_party_group,
    create_member,
    member_snapshot,
)
from dangjian.organizations.models import COMMITTEE_TYPES, Organization, OrgType
from dangjian.organizations.services import (
    RuleViolation,
    StaleEdit,
    add_months,
    require,
    require_active,
    rulebook_for,
)
from dangjian.rules.registry import RuleBook

from . import rules, steps
from .models import (
    Assessment,
    AssessmentStage,
    DevelopmentRecord,
    Document,
    DocumentKind,
    Outcome,
    Participant,
    StepRecord,
)
from .steps import BY_NUMBER, Role, Stage

# Branches that develop members: 临时党支部 do not (they keep no membership of their own).
DEVELOPING_TYPES = frozenset({OrgType.BRANCH, OrgType.JOINT_BRANCH})
PERSON_FIELDS = [
    "name",
    "gender",
    "ethnicity",
    "id_number",
    "birth_date",
    "education",
    "occupation",
    "work_unit",
    "phone",
]


def record_snapshot(record: DevelopmentRecord) -> dict:
    data = snapshot(record)
    data.pop("id_hash", None)
    data["id_number"] = idnumber.mask(record.id_number)
    data["phone"] = idnumber.mask_phone(record.phone)
    return data


def _save(actor, record: DevelopmentRecord, before: dict, reason: str) -> None:
    """Save a changed record under a new version, audited with its state before."""
    record.version += 1
    record.save()
    audit(
        AuditAction.UPDATE,
        actor=actor,
        instance=record,
        organization=record.organization,
        before=before,
        after=record_snapshot(record),
        reason=reason,
    )


def _change_member(actor, member_id: int, reason: str, **changes) -> None:
    """A change development makes on the roster (conversion, disqualification), audited in the
    member's history."""
    member = Member.objects.select_for_update().get(pk=member_id)
    before = member_snapshot(member)
    for field, value in changes.items():
        setattr(member, field, value)
    member.version += 1
    member.save()
    audit(
        AuditAction.UPDATE,
        actor=actor,
        instance=member,
        organization=member.organization,
        before=before,
        after=member_snapshot(member),
        reason=reason,
    )


def approver_organization(record: DevelopmentRecord) -> Organization:
    """Where the higher committee's steps are decided: the nearest 党委 (or 党工委) above the
    branch — above a 党总支, which has no power to approve (基层党委审批)."""
    branch = record.organization
    committee = Organization.objects.above(branch).filter(org_type__in=COMMITTEE_TYPES).last()
    return committee or Organization.objects.get_parent(branch) or branch


def require_for_step(actor, record: DevelopmentRecord, number: int) -> None:
    if BY_NUMBER[number].by_higher_committee:
        require(
            actor,
            Perm.APPROVE_DEVELOPMENT,
            approver_organization(record),
            _("此步骤由上级党委办理，您无权在“%(org)s”审批发展党员。"),
        )
    else:
        require(actor, Perm.MANAGE_DEVELOPMENT, record.organization)


def _violation(rule, message: str, **values) -> RuleViolation:
    return RuleViolation(message % values, rule.citation)


def _date(value, label: str) -> date:
    if isinstance(value, date):
        return value
    if value:
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            pass
    raise ValidationError({"date": _("请填写有效的%(label)s。") % {"label": label}})


def _count(data: dict, field: str, label: str) -> int:
    value = data.get(field)
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationError({field: _("请填写%(label)s。") % {"label": label}}) from None
    if number < 0:
        raise ValidationError({field: _("%(label)s不能为负数。") % {"label": label}})
    return number


def _decimal(data: dict, field: str) -> Decimal | None:
    value = data.get(field)
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ValidationError({field: _("请填写数字。")}) from None
    if not number.is_finite() or number < 0:
        raise ValidationError({field: _("请填写不小于0的数字。")})
    return number


# --- step 1: the application ------------------------------------------------------------------


@transaction.atomic
def open_record(actor, organization: Organization, data: dict, today: date | None = None):
    """Step 1: a person hands in an application (递交入党申请书) to ``organization``."""
    today = today or timezone.localdate()
    require(actor, Perm.MANAGE_DEVELOPMENT, organization)
    require_active(organization)
    if organization.org_type not in DEVELOPING_TYPES:
        raise ValidationError(
            _("入党申请应向党支部（或联合党支部）提出，“%(org)s”不是发展党员的党支部。")
            % {"org": organization.name}
        )
    applied_on = _date(data.get("date"), _("申请日期"))
    if applied_on > today:
        raise ValidationError({"date": _("申请日期不能晚于今天。")})
    errors: dict[str, list[str]] = {}
    try:
        parsed = idnumber.parse(data.get("id_number") or "", today)
    except ValidationError as error:
        errors["id_number"] = error.messages
        parsed = None
    birth = data.get("birth_date") or (parsed.birth_date if parsed else None)
    if parsed and birth != parsed.birth_date:
        errors["birth_date"] = [
            _("出生日期与身份证号不一致（身份证号为 %s）。") % parsed.birth_date
        ]
    if parsed and data.get("gender") and data["gender"] != parsed.gender:
        errors["gender"] = [_("性别与身份证号不一致。")]
    for field in ("name", "gender", "ethnicity", "education", "occupation"):
        if not data.get(field):
            errors.setdefault(field, []).append(_("此项为必填项。"))
    if errors:
        raise ValidationError(errors)
    book = rulebook_for(organization)
    minimum_age = int(book[rules.MINIMUM_AGE.key])
    if age_on(birth, applied_on) < minimum_age:
        raise _violation(
            rules.MINIMUM_AGE,
            _("申请入党须年满%(age)d周岁；申请人%(day)s时未满%(age)d周岁。"),
            age=minimum_age,
            day=applied_on.isoformat(),
        )
    id_hash = idnumber.lookup_hash(idnumber.normalize(data["id_number"]))
    if Member.objects.filter(id_hash=id_hash).exists():
        raise ValidationError({"id_number": _("该身份证号已在党员花名册中登记，无需申请入党。")})
    if DevelopmentRecord.objects.filter(id_hash=id_hash, outcome=Outcome.OPEN).exists():
        raise ValidationError({"id_number": _("该申请人已有正在进行的发展党员档案。")})
    record = DevelopmentRecord(organization=organization, birth_date=birth)
    for field in PERSON_FIELDS:
        if field in data and field != "birth_date":
            setattr(record, field, data[field] or "")
    record.stage, record.step, record.applied_on = Stage.APPLICANT, 1, applied_on
    record.save()
    StepRecord.objects.create(
        record=record, number=1, date=applied_on, note=data.get("note", ""), recorded_by=actor
    )
    Document.objects.create(
        record=record, kind=DocumentKind.APPLICATION, date=applied_on, recorded_by=actor
    )
    audit(
        AuditAction.CREATE,
        actor=actor,
        instance=record,
        organization=organization,
        after=record_snapshot(record),
    )
    return record


# --- later steps -------------------------------------------------------------------------------


@dataclass
class StepInput:
    """A step as submitted: its date and whatever the step records."""

    number: int
    date: date
    data: dict


def _locked(record: DevelopmentRecord) -> DevelopmentRecord:
    return (
        DevelopmentRecord.objects.select_for_update(of=("self",))
        .select_related("organization")
        .get(pk=record.pk)
    )


def _not_future(day: date) -> None:
    if day > timezone.localdate():
        raise ValidationError({"date": _("日期不能晚于今天。")})


def _step_dates(record: DevelopmentRecord) -> dict[int, StepRecord]:
    return {s.number: s for s in record.steps.all()}


@transaction.atomic
def record_step(
    actor, record: DevelopmentRecord, number: int, data: dict, today: date | None = None
) -> StepRecord:
    """Record step ``number`` of ``record`` (the next one) from ``data``: ``date``, ``note``,
    and per step ``people`` (member ids or names), ``entitled``/``present``/``in_favour``,
    ``training_days``/``training_hours``, ``notice_start``/``notice_end``, ``passed``,
    ``delay_reason``, ``party_group``. ``version``, if given, guards against a stale form."""
    today = today or timezone.localdate()
    record = _locked(record)
    if number not in BY_NUMBER or number == 1:
        raise ValidationError(_("没有这个步骤。"))
    require_for_step(actor, record, number)
    if data.get("version") is not None and record.version != int(data["version"]):
        raise StaleEdit([])
    if not record.is_open:
        raise ValidationError(
            _("该档案已%(outcome)s，不能再登记。") % {"outcome": record.get_outcome_display()}
        )
    if number != record.step + 1:
        expected = steps.step_label(record.step + 1)
        raise ValidationError(_("请按顺序办理：下一步应为“%(step)s”。") % {"step": expected})
    day = _date(data.get("date"), _("日期"))
    if day > today:
        raise ValidationError({"date": _("日期不能晚于今天。")})
    done = _step_dates(record)
    previous = done[record.step]
    if day < previous.date:
        raise ValidationError(
            {
                "date": _("日期不能早于上一步“%(step)s”的日期（%(day)s）。")
                % {"step": steps.step_label(previous.number), "day": previous.date.isoformat()}
            }
        )
    book = rulebook_for(record.organization)
    step = StepRecord(
        record=record, number=number, date=day, note=data.get("note", "") or "", recorded_by=actor
    )
    people = CHECKS[number](record, step, data, done, book) if number in CHECKS else []
    before = record_snapshot(record)
    step.save()
    for role, member, name in people:
        Participant.objects.create(record=record, step=number, role=role, member=member, name=name)
    _advance(actor, record, step, data, book)
    record.step = number
    _save(actor, record, before, str(steps.step_label(number)))
    return step


def _people(record, data, role: Role, *, members_only: bool) -> list[tuple]:
    """The people named for ``role``: member ids (of members the branch may name) or names."""
    out = []
    for item in data.get("people") or []:
        if isinstance(item, Member) or (isinstance(item, int | str) and str(item).isdigit()):
            member_id = item.pk if isinstance(item, Member) else int(item)
            # members of the branch's parent subtree: the branch and its neighbours
            nearby = Organization.objects.within(approver_organization(record))
            member = (
                Member.objects.filter(pk=member_id, organization__in=nearby)
                .select_related("organization")
                .first()
            )
            if member is None:
                raise ValidationError({"people": _("所选党员不在本党组织及上级党组织范围内。")})
            out.append((role, member, member.name))
        elif members_only:
            raise ValidationError(
                {"people": _("%(role)s须从党员花名册中选择。") % {"role": role.label}}
            )
        elif str(item).strip():
            out.append((role, None, str(item).strip()[:60]))
    return out


def _full_members_only(people, on: date, rule, role: Role) -> None:
    """Contacts and sponsors are full members on the roster, in normal standing."""
    for _role, member, name in people:
        full = member.membership == Membership.FULL and (
            member.full_member_on is None or member.full_member_on <= on
        )
        if not full or member.standing != Standing.NORMAL:
            raise _violation(
                rule,
                _("%(role)s须为正式党员，%(name)s不是（或不在正常党籍状态）。"),
                role=role.label,
                name=name,
            )


def check_talk(record, step, data, done, book):
    """Step 2: the talk within 1 month of receiving the application."""
    months = int(book[rules.TALK_WITHIN_MONTHS.key])
    deadline = add_months(done[1].date, months)
    if step.date > deadline:
        raise _violation(
            rules.TALK_WITHIN_MONTHS,
            _("党组织应在收到入党申请书后%(n)d个月内（%(deadline)s前）派人谈话，%(day)s已超期。"),
            n=months,
            deadline=deadline.isoformat(),
            day=step.date.isoformat(),
        )
    people = _people(record, data, Role.TALKER, members_only=False)
    if not people:
        raise ValidationError({"people": _("请填写谈话人。")})
    return people


def check_contacts(record, step, data, done, book):
    """Step 5: one or two full members as contacts (培养联系人)."""
    people = _people(record, data, Role.CONTACT, members_only=True)
    maximum = int(book[rules.CONTACTS_MAXIMUM.key])
    if not 1 <= len(people) <= maximum:
        raise _violation(
            rules.CONTACTS_MAXIMUM,
            _("应指定一至%(n)d名正式党员作培养联系人，现为%(count)d名。"),
            n=maximum,
            count=len(people),
        )
    _full_members_only(people, step.date, rules.CONTACTS_MAXIMUM, Role.CONTACT)
    return people


def check_candidate(record, step, data, done, book):
    """Step 7: at least a year as activist, assessed every half year."""
    months = int(book[rules.ACTIVIST_MINIMUM_MONTHS.key])
    earliest = add_months(record.activist_on, months)
    if step.date < earliest:
        raise _violation(
            rules.ACTIVIST_MINIMUM_MONTHS,
            _(
                "入党积极分子须经过%(n)d个月以上的培养教育和考察才能列为发展对象："
                "%(since)s确定为积极分子，最早%(earliest)s。"
            ),
            n=months,
            since=record.activist_on.isoformat(),
            earliest=earliest.isoformat(),
        )
    interval = int(book[rules.ASSESSMENT_INTERVAL_MONTHS.key])
    needed = _whole_periods(record.activist_on, step.date, interval)
    have = record.assessments.filter(
        stage=AssessmentStage.ACTIVIST, date__gte=record.activist_on, date__lte=step.date
    ).count()
    if have < needed:
        raise _violation(
            rules.ASSESSMENT_INTERVAL_MONTHS,
            _(
                "党组织每%(interval)d个月对入党积极分子考察一次：应有%(needed)d次考察记录，现有%(have)d次。"
            ),
            interval=interval,
            needed=needed,
            have=have,
        )
    return []


def _whole_periods(start: date, end: date, months: int) -> int:
    count = 0
    while add_months(start, months * (count + 1)) <= end:
        count += 1
    return count


def under_probation_q(on: date) -> Q:
    """Punishments that keep a member under 留党察看 on ``on``: the end date still to come, or
    a 留党察看 recorded without an end date (nothing says the rights were restored)."""
    return Q(kind=RewardOrPunishment.Kind.PUNISHMENT, decided_on__lte=on) & (
        Q(under_probation_until__gte=on)
        | Q(under_probation_until__isnull=True, title__contains="留党察看")
    )


def under_probation(member: Member, on: date) -> bool:
    return RewardOrPunishment.objects.filter(under_probation_q(on), member=member).exists()


def check_sponsors(record, step, data, done, book):
    """Step 9: two full members as sponsors, none under 留党察看."""
    people = _people(record, data, Role.SPONSOR, members_only=True)
    needed = int(book[rules.SPONSORS.key])
    if len(people) != needed or len({m.pk for _r, m, _n in people}) != needed:
        raise _violation(
            rules.SPONSORS,
            _("发展对象应有%(n)d名正式党员作入党介绍人，现为%(count)d名。"),
            n=needed,
            count=len({m.pk for _r, m, _n in people}),
        )
    _full_members_only(people, step.date, rules.SPONSORS, Role.SPONSOR)
    for _role, member, name in people:
        if under_probation(member, step.date):
            raise _violation(
                rules.SPONSORS,
                _("%(name)s受留党察看处分、尚未恢复党员权利，不能作入党介绍人。"),
                name=name,
            )
    return people


def check_review(record, step, data, done, book):
    """Step 10: the political review and its conclusion."""
    passed = data.get("passed")
    if passed in (None, ""):
        raise ValidationError({"passed": _("请填写政治审查结论。")})
    step.passed = passed in (True, "true", "True", "1", 1, "on")
    return []


def check_training(record, step, data, done, book):
    """Step 11: short training of at least 3 days or 24 class hours."""
    step.training_days = _decimal(data, "training_days")
    step.training_hours = _decimal(data, "training_hours")
    min_days = int(book[rules.TRAINING_MINIMUM_DAYS.key])
    min_hours = int(book[rules.TRAINING_MINIMUM_HOURS.key])
    if step.training_days is None and step.training_hours is None:
        raise ValidationError({"training_days": _("请填写培训天数或学时。")})
    if (step.training_days or 0) < min_days and (step.training_hours or 0) < min_hours:
        raise _violation(
            rules.TRAINING_MINIMUM_DAYS,
            _("发展对象集中培训一般不少于%(days)d天（或不少于%(hours)d个学时），现为%(have)s。"),
            days=min_days,
            hours=min_hours,
            have=_("%(d)s天、%(h)s学时")
            % {
                "d": step.training_days or 0,
                "h": step.training_hours or 0,
            },
        )
    return []


def check_committee_review(record, step, data, done, book):
    """Step 12: nobody not reviewed, or not passed, goes further."""
    if not done[steps.POLITICAL_REVIEW].passed:
        raise RuleViolation(
            _("政治审查不合格的，不能发展入党。"),
            _("《中国共产党发展党员工作细则》第十六条"),
        )
    return []


def notice_days(start: date, end: date, working_days: bool) -> int:
    """Days of a public notice from ``start`` to ``end`` inclusive; working days count Monday
    to Friday (public holidays are not known to the system: see docs)."""
    days = (end - start).days + 1
    if not working_days:
        return days
    return sum(1 for i in range(days) if (start + timedelta(days=i)).weekday() < 5)


def check_pre_review(record, step, data, done, book):
    """Step 13: the public notice, of the configured length, after the committee's review and
    ended by the pre-review."""
    start = data.get("notice_start")
    end = data.get("notice_end")
    if not start or not end:
        raise ValidationError({"notice_start": _("请填写公示起止日期。")})
    start, end = _date(start, _("公示开始日期")), _date(end, _("公示结束日期"))
    if end < start:
        raise ValidationError({"notice_end": _("公示结束日期不能早于开始日期。")})
    if start < done[steps.COMMITTEE_REVIEW].date:
        raise ValidationError({"notice_start": _("公示应在支部委员会审查之后开始。")})
    if end > step.date:
        raise ValidationError({"notice_end": _("预审应在公示期满之后进行。")})
    length = int(book[rules.NOTICE_LENGTH.key])
    working = bool(int(book[rules.NOTICE_WORKING_DAYS.key]))
    have = notice_days(start, end, working)
    if have < length:
        unit = _("个工作日") if working else _("天")
        raise _violation(
            rules.NOTICE_LENGTH,
            _("发展对象公示期不少于%(n)d%(unit)s，%(start)s至%(end)s只有%(have)d%(unit)s。"),
            n=length,
            unit=unit,
            start=start.isoformat(),
            end=end.isoformat(),
            have=have,
        )
    step.notice_start, step.notice_end = start, end
    return []


def full_members_on(branch: Organization, on: date) -> int:
    """The branch meeting's voters on ``on``: the full members of the branch's roster that
    day, less those under 留党察看 (who have no vote until their rights are restored)."""
    from dangjian.orglife.services import members_on

    suspended = RewardOrPunishment.objects.filter(under_probation_q(on), member=OuterRef("pk"))
    return (
        members_on(branch, on)
        .filter(membership=Membership.FULL)
        .filter(Q(full_member_on__isnull=True) | Q(full_member_on__lte=on))
        .filter(~Exists(suspended))
        .count()
    )


def check_vote(record, step, data, done, book):
    """Steps 15 and 23: more than half of the entitled voters present, and more than half of
    all entitled full members in favour."""
    entitled = _count(data, "entitled", _("应到会有表决权的正式党员人数"))
    present = _count(data, "present", _("实到会有表决权的党员人数"))
    in_favour = _count(data, "in_favour", _("赞成票数"))
    if entitled == 0:
        raise ValidationError({"entitled": _("应到会有表决权的正式党员人数不能为0。")})
    if present > entitled:
        raise ValidationError({"present": _("实到人数不能多于应到人数。")})
    if in_favour > present:
        raise ValidationError({"in_favour": _("赞成票不能多于实到人数。")})
    roster = full_members_on(record.organization, step.date)
    if entitled > roster:
        raise ValidationError(
            {
                "entitled": _("应到会有表决权的正式党员不能多于支部当日的正式党员数（%(n)d名）。")
                % {"n": roster}
            }
        )
    # Fewer than the roster's voters would lower both majorities: only with the reason, kept
    # with the step (e.g. a member who died is still on the roster).
    reason = (data.get("entitled_reason") or "").strip()
    if entitled < roster:
        if not reason:
            raise ValidationError(
                {
                    "entitled": _(
                        "支部当日有表决权的正式党员为%(n)d名（受留党察看处分者除外），"
                        "填写%(e)d名的，须说明原因。"
                    )
                    % {"n": roster, "e": entitled}
                }
            )
        step.note = "\n".join(
            filter(None, [step.note, _("应到人数说明：%(r)s") % {"r": reason[:200]}])
        )
    quorum = Decimal(book[rules.QUORUM.key])
    if present * 100 <= entitled * quorum:
        raise _violation(
            rules.QUORUM,
            _(
                "有表决权的到会人数须超过应到会有表决权人数的半数：应到%(e)d人，实到%(p)d人，不能开会表决。"
            ),
            e=entitled,
            p=present,
        )
    majority = Decimal(book[rules.MAJORITY.key])
    if in_favour * 100 <= entitled * majority:
        raise _violation(
            rules.MAJORITY,
            _(
                "赞成人数须超过应到会有表决权的正式党员的半数：应到%(e)d人，赞成%(y)d人，决议未通过。"
            ),
            e=entitled,
            y=in_favour,
        )
    step.entitled, step.present, step.in_favour = entitled, present, in_favour
    if step.number == steps.CONVERSION_MEETING and step.date < record.probation_ends_on:
        raise _violation(
            rules.PROBATION_MONTHS,
            _("预备期%(end)s期满，支部大会应在预备期满后讨论其能否转为正式党员。"),
            end=record.probation_ends_on.isoformat(),
        )
    return []


def check_approval(record, step, data, done, book):
    """Step 17: approved within 3 months of the branch meeting; up to 6 with a reason."""
    meeting = done[steps.ADMISSION_MEETING].date
    usual = int(book[rules.APPROVAL_MONTHS.key])
    longest = int(book[rules.APPROVAL_MAXIMUM_MONTHS.key])
    reason = (data.get("delay_reason") or "").strip()
    if step.date > add_months(meeting, longest):
        raise _violation(
            rules.APPROVAL_MAXIMUM_MONTHS,
            _("审批时间自支部大会（%(meeting)s）起不得超过%(n)d个月；已超期，应重新履行入党手续。"),
            meeting=meeting.isoformat(),
            n=longest,
        )
    if step.date > add_months(meeting, usual):
        if not reason:
            raise _violation(
                rules.APPROVAL_MONTHS,
                _("基层党委应在支部大会（%(meeting)s）后%(n)d个月内审批；超过的须写明特殊情况。"),
                meeting=meeting.isoformat(),
                n=usual,
            )
        step.delay_reason = reason[:200]
    return _people(record, data, Role.APPROVER, members_only=False)


def check_conversion_approval(record, step, data, done, book):
    """Step 24: approved within 3 months of the branch meeting on the conversion."""
    meeting = done[steps.CONVERSION_MEETING].date
    months = int(book[rules.CONVERSION_APPROVAL_MONTHS.key])
    if step.date > add_months(meeting, months):
        raise _violation(
            rules.CONVERSION_APPROVAL_MONTHS,
            _("基层党委应在支部大会讨论转正（%(meeting)s）后%(n)d个月内审批，%(day)s已超期。"),
            meeting=meeting.isoformat(),
            n=months,
            day=step.date.isoformat(),
        )
    return _people(record, data, Role.APPROVER, members_only=False)


def check_committee_talk(record, step, data, done, book):
    people = _people(record, data, Role.COMMITTEE_TALKER, members_only=False)
    if not people:
        raise ValidationError({"people": _("请填写上级党委谈话人。")})
    return people


def check_placement(record, step, data, done, book):
    """Step 19: into the branch (already there) and, where it has groups, a 党小组."""
    group = data.get("party_group")
    if group not in (None, ""):
        if not isinstance(group, Organization):
            known = str(group).isdigit()
            group = Organization.objects.filter(pk=group).first() if known else None
        if group is None:  # an unknown id: check_party_group takes None for "no group"
            raise ValidationError({"party_group": _("请选择本支部下设的党小组。")})
        errors = check_party_group(record.organization, group)
        if errors:
            raise ValidationError(errors)
        step.note = step.note or _("编入%(group)s") % {"group": group.name}
        data["_group"] = group
    return []


# The papers a step produces, registered with it.
STEP_DOCUMENTS = {
    steps.POLITICAL_REVIEW: DocumentKind.POLITICAL_REVIEW,
    steps.TRAINING: DocumentKind.TRAINING_CERTIFICATE,
    steps.VOLUNTEER_FORM: DocumentKind.VOLUNTEER_FORM,
    22: DocumentKind.CONVERSION_APPLICATION,
}

CHECKS = {
    steps.TALK: check_talk,
    steps.CONTACTS: check_contacts,
    steps.CANDIDATE: check_candidate,
    steps.SPONSORS: check_sponsors,
    steps.POLITICAL_REVIEW: check_review,
    steps.TRAINING: check_training,
    steps.COMMITTEE_REVIEW: check_committee_review,
    steps.PRE_REVIEW: check_pre_review,
    steps.ADMISSION_MEETING: check_vote,
    16: check_committee_talk,
    steps.APPROVAL: check_approval,
    steps.PLACEMENT: check_placement,
    steps.CONVERSION_MEETING: check_vote,
    steps.CONVERSION_APPROVAL: check_conversion_approval,
}


def _advance(actor, record: DevelopmentRecord, step: StepRecord, data: dict, book) -> None:
    """What a recorded step changes in the record (and, for approvals, on the roster)."""
    number, day = step.number, step.date
    record.stage = BY_NUMBER[number].stage_after or record.stage
    if number == steps.TALK:
        record.talked_on = day
    elif number == steps.ACTIVIST:
        record.activist_on = day
    elif number == steps.CANDIDATE:
        record.candidate_on = day
    elif number == steps.ADMISSION_MEETING:
        record.admitted_on = day
        months = int(book[rules.PROBATION_MONTHS.key])
        record.probation_ends_on = add_months(day, months)
    elif number == steps.APPROVAL:
        record.approved_on = day
        record.member = _enter_roster(actor, record)
    elif number == steps.PLACEMENT and data.get("_group") is not None:
        Member.objects.filter(pk=record.member_id).update(party_group=data["_group"])
    elif number == steps.CONVERSION_MEETING:
        record.conversion_meeting_on = day
    elif number == steps.CONVERSION_APPROVAL:
        record.converted_on = record.probation_ends_on
        _make_full(actor, record, day)
    elif number == steps.LAST:
        record.outcome = Outcome.COMPLETED
    if number in STEP_DOCUMENTS:
        Document.objects.create(
            record=record, kind=STEP_DOCUMENTS[number], date=day, recorded_by=actor
        )
    if BY_NUMBER[number].assessment:
        stage = AssessmentStage.ACTIVIST if number < 10 else AssessmentStage.PROBATIONARY
        Assessment.objects.create(
            record=record,
            stage=stage,
            date=day,
            summary=step.note or str(BY_NUMBER[number].label),
            recorded_by=actor,
        )
        record.last_assessed_on = day


def _enter_roster(actor, record: DevelopmentRecord) -> Member:
    """Approval as probationary: the person joins the branch's roster, 入党日期 being the day
    of the branch meeting (the probation counts from it)."""
    data = {field: getattr(record, field) for field in PERSON_FIELDS}
    data |= {
        "organization": record.organization,
        "joined_on": record.admitted_on,
        "membership": Membership.PROBATIONARY,
        "full_member_on": None,
        "standing": Standing.NORMAL,
    }
    return create_member(actor, data)


def _make_full(actor, record: DevelopmentRecord, approved_on: date) -> None:
    """Conversion approved: a full member from the day the probation ended (转正时间为预备期满
    之日), on the roster and in its history."""
    _change_member(
        actor,
        record.member_id,
        _("预备党员转为正式党员（上级党委%(day)s批准）") % {"day": approved_on.isoformat()},
        membership=Membership.FULL,
        full_member_on=record.probation_ends_on,
    )


# --- beside the steps ---------------------------------------------------------------------------


@transaction.atomic
def add_assessment(actor, record: DevelopmentRecord, day: date, summary: str) -> Assessment:
    """A further half-yearly assessment of an activist/candidate or a probationary member."""
    record = _locked(record)
    require(actor, Perm.MANAGE_DEVELOPMENT, record.organization)
    if not record.is_open or record.stage in (Stage.APPLICANT, Stage.FULL):
        raise ValidationError(_("只有入党积极分子、发展对象和预备党员需要考察。"))
    summary = (summary or "").strip()
    if not summary:
        raise ValidationError({"summary": _("请填写考察意见。")})
    _not_future(day)
    stage = (
        AssessmentStage.PROBATIONARY
        if record.stage == Stage.PROBATIONARY
        else AssessmentStage.ACTIVIST
    )
    since = record.admitted_on if stage == AssessmentStage.PROBATIONARY else record.activist_on
    if since and day < since:
        raise ValidationError({"date": _("考察日期不能早于%(day)s。") % {"day": since}})
    assessment = Assessment.objects.create(
        record=record, stage=stage, date=day, summary=summary, recorded_by=actor
    )
    record.last_assessed_on = max(filter(None, [record.last_assessed_on, day]))
    record.save(update_fields=["last_assessed_on", "updated_at"])
    audit(
        AuditAction.CREATE,
        actor=actor,
        instance=assessment,
        organization=record.organization,
        after=snapshot(assessment),
    )
    return assessment


@transaction.atomic
def add_document(actor, record: DevelopmentRecord, kind: str, day: date, title: str = ""):
    record = _locked(record)
    require(actor, Perm.MANAGE_DEVELOPMENT, record.organization)
    if not record.is_open:
        raise ValidationError(_("该档案已结束，不能再登记材料。"))
    _not_future(day)
    if kind not in DocumentKind.values:
        raise ValidationError({"kind": _("请选择材料类别。")})
    document = Document.objects.create(
        record=record, kind=kind, date=day, title=(title or "")[:120], recorded_by=actor
    )
    audit(
        AuditAction.CREATE,
        actor=actor,
        instance=document,
        organization=record.organization,
        after=snapshot(document),
    )
    return document


@transaction.atomic
def extend_probation(actor, record: DevelopmentRecord, months: int, day: date, reason: str):
    """The branch meeting at the end of the probation extends it (延长预备期), once, by 6 to
    12 months; the higher committee approves that decision like a conversion."""
    record = _locked(record)
    require(actor, Perm.APPROVE_DEVELOPMENT, approver_organization(record))
    _not_future(day)
    book = rulebook_for(record.organization)
    if record.stage != Stage.PROBATIONARY or not record.is_open:
        raise ValidationError(_("只有预备党员可以延长预备期。"))
    if record.step >= steps.CONVERSION_MEETING:
        raise ValidationError(_("支部大会已讨论通过转正，不能再延长预备期。"))
    if record.extension_months:
        raise _violation(
            rules.EXTENSION_MAXIMUM_MONTHS,
            _("预备期已延长过一次（%(n)d个月），不能再延长。"),
            n=record.extension_months,
        )
    low = int(book[rules.EXTENSION_MINIMUM_MONTHS.key])
    high = int(book[rules.EXTENSION_MAXIMUM_MONTHS.key])
    if not low <= int(months) <= high:
        rule = (
            rules.EXTENSION_MINIMUM_MONTHS if int(months) < low else rules.EXTENSION_MAXIMUM_MONTHS
        )
        raise _violation(
            rule,
            _("延长预备期不能少于%(low)d个月、不能超过%(high)d个月，现为%(n)d个月。"),
            low=low,
            high=high,
            n=int(months),
        )
    if day < record.probation_ends_on:
        raise ValidationError({"date": _("延长预备期应在预备期满时由支部大会讨论决定。")})
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("请写明延长预备期的理由。")})
    before = record_snapshot(record)
    record.extension_months = int(months)
    record.extension_decided_on = day
    record.extension_reason = reason[:200]
    record.probation_ends_on = add_months(record.probation_ends_on, int(months))
    _save(actor, record, before, reason)
    return record


@transaction.atomic
def close_record(actor, record: DevelopmentRecord, day: date, reason: str) -> DevelopmentRecord:
    """End a record before conversion: training stopped (终止培养) for an applicant, activist
    or candidate; for a probationary member, the loss of probationary membership (取消预备党员
    资格), decided with the higher committee's approval — they leave the roster."""
    record = _locked(record)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("请写明理由。")})
    _not_future(day)
    if not record.is_open or record.stage == Stage.FULL:
        raise ValidationError(_("该档案已结束。"))
    before = record_snapshot(record)
    if record.stage == Stage.PROBATIONARY:
        require(actor, Perm.APPROVE_DEVELOPMENT, approver_organization(record))
        record.outcome = Outcome.DISQUALIFIED
        _change_member(
            actor,
            record.member_id,
            _("取消预备党员资格：%(reason)s") % {"reason": reason},
            standing=Standing.LEFT,
        )
    else:
        require(actor, Perm.MANAGE_DEVELOPMENT, record.organization)
        record.outcome = Outcome.STOPPED
    record.closed_on, record.closed_reason = day, reason[:200]
    _save(actor, record, before, reason)
    return record


def next_step(record: DevelopmentRecord):
    """The step to record next, or None when the record is finished or closed."""
    if not record.is_open or record.step >= steps.LAST:
        return None
    return BY_NUMBER[record.step + 1]


def book_for(record: DevelopmentRecord) -> RuleBook:
    return rulebook_for(record.organization)
