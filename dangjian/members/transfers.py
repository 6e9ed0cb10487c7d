"""组织关系转接: issuing, receiving, returning and cancelling transfers, in and out of the system.

Every function re-checks the actor's scope on the server, enforces the rules of the transfer,
and records the change in the audit log inside the same transaction. The member moves only when
the receiving side accepts (or, for a destination outside the system, when the sending side
records the receipt).

``dues_paid_until`` is stored as the **first day** of the last month paid for.
``incoming_id_number`` holds the ID number as on the letter (encrypted, masked in the history);
whether a member comes from outside the system is told by ``from_outside``/``member``.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from dangjian.accounts.roles import Perm
from dangjian.audit.models import AuditAction, AuditEvent
from dangjian.audit.services import record, snapshot
from dangjian.core.flags import Flag, FlagContext
from dangjian.core.flags import register as register_flag
from dangjian.organizations.models import Organization, OrgType
from dangjian.organizations.querysets import path_range_q
from dangjian.organizations.services import RuleViolation, dissolve_check, require, rulebook_for
from dangjian.rules.registry import Rule
from dangjian.rules.registry import register as register_rule

from . import idnumber, services
from .choices import Standing
from .models import Member, Transfer

VALIDITY_DAYS = register_rule(
    Rule(
        key="transfer.validity_days",
        label=gettext_lazy("党员组织关系介绍信有效期"),
        default=90,
        unit=gettext_lazy("天"),
        citation=gettext_lazy(
            "中央组织部关于党员组织关系转接的有关规定：组织关系介绍信有效期一般不超过3个月"
            "（各地可配置）"
        ),
        configurable=True,
        minimum=1,
        maximum=180,
    )
)

Status = Transfer.Status
# Where a member's organizational relation can lie: a 党小组 is part of its branch, not a
# holder of relations (党章第三十条: 党员组织关系在党支部).
NOT_A_DESTINATION = frozenset({OrgType.GROUP})
LETTER_DIGITS = 4


# Reading a transfer.


def month_start(day: date) -> date:
    return day.replace(day=1)


def is_open(transfer: Transfer) -> bool:
    return transfer.status == Status.ISSUED


def is_expired(transfer: Transfer, today: date | None = None) -> bool:
    """Open and past its validity: the letter can no longer be accepted."""
    today = today or timezone.localdate()
    return is_open(transfer) and transfer.valid_until < today


def member_name(transfer: Transfer) -> str:
    return transfer.member.name if transfer.member_id else transfer.incoming_name


def from_name(transfer: Transfer) -> str:
    return (
        transfer.from_organization.name if transfer.from_organization_id else transfer.from_outside
    )


def to_name(transfer: Transfer) -> str:
    return transfer.to_organization.name if transfer.to_organization_id else transfer.to_outside


def sending_side(transfer: Transfer) -> Organization:
    """The organization in the system that answers for the transfer as its sender.

    For a member arriving from outside the system, the receiving organization recorded it.
    """
    return transfer.from_organization or transfer.to_organization


def transfer_snapshot(transfer: Transfer) -> dict:
    """The transfer for the history: the incoming ID number masked, never in clear."""
    data = snapshot(transfer)
    data["incoming_id_number"] = idnumber.mask(transfer.incoming_id_number)
    return data


def history(transfer: Transfer):
    return AuditEvent.objects.filter(
        object_type=transfer._meta.label_lower, object_id=str(transfer.pk)
    ).exclude(action=AuditAction.READ)


def destinations_for(member: Member, include_own: bool = False):
    """Where ``member`` may be transferred within the system: any active organization of the
    same top-level tree (not only those the sender can see), except their own."""
    organizations = (
        Organization.objects.filter(path_range_q(member.organization.root_path))
        .active()
        .exclude(org_type__in=NOT_A_DESTINATION)
    )
    return organizations if include_own else organizations.exclude(pk=member.organization_id)


def visible_transfers(user):
    """Transfers either side of which lies in the user's scope of members."""
    organizations = Organization.objects.for_user(user, Perm.VIEW_MEMBERS)
    return Transfer.objects.filter(
        Q(from_organization__in=organizations) | Q(to_organization__in=organizations)
    )


# Checks shared by the services.


def _require(actor, organization: Organization) -> None:
    require(actor, Perm.MANAGE_MEMBERS, organization, _("您无权办理“%(org)s”的组织关系转接。"))


def _locked(transfer: Transfer) -> Transfer:
    return (
        # Lock the transfer row only: PostgreSQL cannot lock the nullable side of a join.
        Transfer.objects.select_for_update(of=("self",))
        .select_related("member", "from_organization", "to_organization")
        .get(pk=transfer.pk)
    )


def _require_open(transfer: Transfer) -> None:
    if not is_open(transfer):
        raise RuleViolation(
            _("该组织关系转接已办结（%(status)s），不能再办理。")
            % {"status": transfer.get_status_display()}
        )


def _check_destination(organization: Organization) -> None:
    if not organization.is_active:
        raise RuleViolation(_("接收党组织“%(org)s”已撤销。") % {"org": organization.name})
    if organization.org_type in NOT_A_DESTINATION:
        raise RuleViolation(
            _("党员的组织关系应转至党支部（党小组不是组织关系所在的党组织）。"),
            _("《中国共产党章程》第三十条"),
        )


def _validity(transfer: Transfer, organization: Organization, given: date | None) -> None:
    """Fill ``valid_until`` from the rule when not given; a given one may not exceed it."""
    days = int(rulebook_for(organization)[VALIDITY_DAYS.key])
    longest = transfer.issued_on + timedelta(days=days)
    if given is None:
        transfer.valid_until = longest
        return
    if given < transfer.issued_on:
        raise ValidationError({"valid_until": _("有效期不能早于开具日期。")})
    if given > longest:
        raise RuleViolation(
            _("介绍信有效期不能超过%(n)d天（即%(day)s）。") % {"n": days, "day": longest},
            VALIDITY_DAYS.citation,
        )
    transfer.valid_until = given


def _next_letter_number(organization: Organization, year: int) -> str:
    """``{year}-{sequence}``, counted per sending organization and year.

    The caller holds a lock on the organization row, so two letters cannot take one number.
    """
    prefix = f"{year}-"
    numbers = Transfer.objects.filter(
        from_organization=organization, letter_number__startswith=prefix
    ).values_list("letter_number", flat=True)
    used = [int(n[len(prefix) :]) for n in numbers if n[len(prefix) :].isdigit()]
    return f"{prefix}{max(used, default=0) + 1:0{LETTER_DIGITS}d}"


def _save_checked(transfer: Transfer) -> None:
    transfer.full_clean(exclude=["issued_by", "decided_by", "member"])
    transfer.save()


def _decide(transfer: Transfer, actor, status: str) -> None:
    transfer.status = status
    transfer.decided_by = actor
    transfer.decided_on = timezone.localdate()
    transfer.version += 1


def _move_member(actor, member: Member, transfer: Transfer, changes: dict, organization) -> None:
    """Apply ``changes`` to the member on the sending side's roster, with its history."""
    member = Member.objects.select_for_update().get(pk=member.pk)
    if member.organization_id != transfer.from_organization_id or not member.on_roster:
        raise RuleViolation(
            _("该党员的组织关系或党籍状态在开具介绍信后已有变化，请撤回后重新办理。")
        )
    before = services.member_snapshot(member)
    for field, value in changes.items():
        setattr(member, field, value)
    if member.organization_id != transfer.from_organization_id:
        member.party_group = None  # the 党小组 belonged to the branch left behind
    member.version += 1
    member.save()
    record(
        AuditAction.UPDATE,
        actor=actor,
        instance=member,
        organization=organization,
        before=before,
        after=services.member_snapshot(member),
        reason=_("组织关系转接（介绍信编号 %(no)s）") % {"no": transfer.letter_number or "—"},
    )


# The services.


@transaction.atomic
def issue_transfer(actor, member: Member, data: dict) -> Transfer:
    """The sending organization issues a letter: to an organization in the system
    (``to_organization``) or outside it (``to_outside``), exactly one of the two."""
    member = Member.objects.select_for_update().select_related("organization").get(pk=member.pk)
    _require(actor, member.organization)
    if not member.on_roster:
        raise RuleViolation(
            _("该党员党籍状态为“%(s)s”，不在册，不能办理组织关系转接。")
            % {"s": member.get_standing_display()}
        )
    destination = data.get("to_organization")
    outside = (data.get("to_outside") or "").strip()
    if bool(destination) == bool(outside):
        raise ValidationError(
            {"to_outside": _("请在“系统内接收党组织”和“系统外接收党组织名称”中二选一。")}
        )
    if destination is not None:
        destination = Organization.objects.get(pk=destination.pk)
        if destination.pk == member.organization_id:
            raise ValidationError({"to_organization": _("接收党组织不能是该党员现所在的党组织。")})
        if destination.root_path != member.organization.root_path:
            raise ValidationError(
                {
                    "to_organization": _(
                        "系统内转接只能转至本系统同一上级党组织之下；其他地区请填写系统外组织名称。"
                    )
                }
            )
        _check_destination(destination)
    if not data.get("dues_paid_until"):
        raise ValidationError({"dues_paid_until": _("请填写党费缴至年月。")})
    if not (data.get("reason") or "").strip():
        raise ValidationError({"reason": _("请填写转接原因。")})
    open_letter = Transfer.objects.filter(member=member, status=Status.ISSUED).first()
    if open_letter is not None:
        raise RuleViolation(
            _("该党员已有一份待接收的组织关系介绍信（编号 %(no)s），请先撤回或等待对方办理。")
            % {"no": open_letter.letter_number}
        )
    sender = Organization.objects.select_for_update().get(pk=member.organization_id)
    today = timezone.localdate()
    transfer = Transfer(
        member=member,
        from_organization=sender,
        to_organization=destination,
        to_outside=outside,
        incoming_id_number=member.id_number,  # the number as on the letter
        reason=data["reason"].strip(),
        dues_paid_until=month_start(data["dues_paid_until"]),
        issued_on=today,
        issued_by=actor,
    )
    _validity(transfer, sender, data.get("valid_until"))
    transfer.letter_number = _next_letter_number(sender, today.year)
    _save_checked(transfer)
    record(
        AuditAction.CREATE,
        actor=actor,
        instance=transfer,
        organization=sender,
        after=transfer_snapshot(transfer),
    )
    return transfer


@transaction.atomic
def record_incoming(actor, data: dict) -> Transfer:
    """The receiving organization records a letter from an organization outside the system.

    The member record is created when the transfer is accepted (:func:`accept_transfer`).
    """
    receiver = data["to_organization"]
    _require(actor, receiver)
    _check_destination(receiver)
    source = (data.get("from_outside") or "").strip()
    name = (data.get("incoming_name") or "").strip()
    if not source:
        raise ValidationError({"from_outside": _("请填写转出党组织名称。")})
    if not name:
        raise ValidationError({"incoming_name": _("请填写党员姓名。")})
    if not (data.get("reason") or "").strip():
        raise ValidationError({"reason": _("请填写转接原因。")})
    if not data.get("dues_paid_until"):
        raise ValidationError({"dues_paid_until": _("请填写党费缴至年月。")})
    try:
        number = idnumber.parse(data.get("incoming_id_number") or "").value
    except ValidationError as error:
        raise ValidationError({"incoming_id_number": error.messages}) from None
    existing = Member.objects.filter(id_hash=idnumber.lookup_hash(number)).first()
    if existing is not None and existing.standing != Standing.TRANSFERRED_OUT:
        raise ValidationError(
            {
                "incoming_id_number": _(
                    "该身份证号在系统内已有党员记录，不能按系统外转入登记；"
                    "请由其所在党组织在系统内办理转接。"
                )
            }
        )
    pending = Transfer.objects.select_for_update().filter(status=Status.ISSUED, member=None)
    if any(idnumber.normalize(t.incoming_id_number) == number for t in pending):
        raise ValidationError({"incoming_id_number": _("该身份证号已有一份待接收的转入记录。")})
    today = timezone.localdate()
    issued_on = data.get("issued_on") or today
    if issued_on > today:
        raise ValidationError({"issued_on": _("开具日期不能晚于今天。")})
    valid_until = data.get("valid_until")
    if valid_until is not None and valid_until < issued_on:
        raise ValidationError({"valid_until": _("有效期不能早于开具日期。")})
    transfer = Transfer(
        incoming_name=name,
        incoming_id_number=number,
        from_outside=source,
        to_organization=receiver,
        reason=data["reason"].strip(),
        dues_paid_until=month_start(data["dues_paid_until"]),
        issued_on=issued_on,
        letter_number=(data.get("letter_number") or "").strip(),
        issued_by=actor,
    )
    if valid_until is None:
        _validity(transfer, receiver, None)
    else:  # the letter's own validity, set by the organization that issued it
        transfer.valid_until = valid_until
    _save_checked(transfer)
    record(
        AuditAction.CREATE,
        actor=actor,
        instance=transfer,
        organization=receiver,
        after=transfer_snapshot(transfer),
    )
    return transfer


INCOMING_MEMBER_FIELDS = [
    field
    for field in services.MEMBER_FIELDS
    if field
    not in (
        "organization",
        "name",
        "id_number",
        "standing",
        "floating_destination",
        "floating_since",
        "lost_contact_since",
    )
]


def _admit(actor, transfer: Transfer, member_data: dict | None) -> Member:
    """The Member record of someone arriving from outside the system.

    A member who once left the system (已转出系统外) keeps their row: it is put back on the
    roster of the receiving organization rather than created a second time.
    """
    if not member_data:
        raise ValidationError(_("请填写该党员的基本信息后再接收。"))
    data = {field: member_data[field] for field in INCOMING_MEMBER_FIELDS if field in member_data}
    data.update(
        organization=transfer.to_organization,
        name=transfer.incoming_name,
        id_number=transfer.incoming_id_number,
        standing=Standing.NORMAL,
    )
    existing = (
        Member.objects.select_for_update()
        .filter(id_hash=idnumber.lookup_hash(transfer.incoming_id_number))
        .first()
    )
    if existing is None:
        return services.create_member(actor, data)
    if existing.standing != Standing.TRANSFERRED_OUT:
        raise RuleViolation(_("该身份证号在系统内已有党员记录，不能按系统外转入接收。"))
    merged = {field: getattr(existing, field) for field in services.MEMBER_FIELDS}
    merged.update(data, floating_destination="", floating_since=None, lost_contact_since=None)
    errors = services.check_record(merged)
    if errors:
        raise ValidationError(errors)
    before = services.member_snapshot(existing)
    for field, value in merged.items():
        setattr(existing, field, value)
    existing.version += 1
    existing.save()
    record(
        AuditAction.UPDATE,
        actor=actor,
        instance=existing,
        organization=transfer.to_organization,
        before=before,
        after=services.member_snapshot(existing),
        reason=_("由系统外转回（%(org)s）") % {"org": transfer.from_outside},
    )
    return existing


@transaction.atomic
def accept_transfer(actor, transfer: Transfer, member_data: dict | None = None) -> Transfer:
    """The receiving organization accepts: only now does the member move (or, arriving from
    outside the system, get a record on its roster from ``member_data``)."""
    transfer = _locked(transfer)
    if transfer.to_organization is None:
        raise RuleViolation(_("接收党组织在系统外，请由转出方凭回执登记办结。"))
    receiver = transfer.to_organization
    _require(actor, receiver)
    _require_open(transfer)
    if is_expired(transfer):
        raise RuleViolation(
            _("介绍信已过有效期，请退回后由转出方重新开具。"), VALIDITY_DAYS.citation
        )
    _check_destination(receiver)
    before = transfer_snapshot(transfer)
    if transfer.member_id:
        _move_member(actor, transfer.member, transfer, {"organization": receiver}, receiver)
    else:
        transfer.member = _admit(actor, transfer, member_data)
    _decide(transfer, actor, Status.ACCEPTED)
    transfer.save()
    record(
        AuditAction.UPDATE,
        actor=actor,
        instance=transfer,
        organization=receiver,
        before=before,
        after=transfer_snapshot(transfer),
        reason=_("接收组织关系"),
    )
    return transfer


@transaction.atomic
def return_transfer(actor, transfer: Transfer, reason: str) -> Transfer:
    """The receiving organization sends the letter back, saying why; the member stays."""
    transfer = _locked(transfer)
    if transfer.to_organization is None:
        raise RuleViolation(_("接收党组织在系统外，不能在系统内退回；如未办成请撤回。"))
    _require(actor, transfer.to_organization)
    _require_open(transfer)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"return_reason": _("请填写退回原因。")})
    before = transfer_snapshot(transfer)
    transfer.return_reason = reason
    _decide(transfer, actor, Status.RETURNED)
    _save_checked(transfer)
    record(
        AuditAction.UPDATE,
        actor=actor,
        instance=transfer,
        organization=transfer.to_organization,
        before=before,
        after=transfer_snapshot(transfer),
        reason=reason,
    )
    return transfer


@transaction.atomic
def cancel_transfer(actor, transfer: Transfer, reason: str = "") -> Transfer:
    """The sending side withdraws a letter still waiting (for a letter from outside the system,
    the receiving organization that recorded it withdraws the record)."""
    transfer = _locked(transfer)
    _require(actor, sending_side(transfer))
    _require_open(transfer)
    before = transfer_snapshot(transfer)
    _decide(transfer, actor, Status.CANCELLED)
    transfer.save()
    record(
        AuditAction.UPDATE,
        actor=actor,
        instance=transfer,
        organization=sending_side(transfer),
        before=before,
        after=transfer_snapshot(transfer),
        reason=(reason or "").strip() or _("撤回介绍信"),
    )
    return transfer


@transaction.atomic
def complete_outside(actor, transfer: Transfer) -> Transfer:
    """The receipt came back from an organization outside the system: the sending side closes
    the transfer and the member leaves its roster (kept on record as 已转出系统外)."""
    transfer = _locked(transfer)
    if transfer.to_organization_id or transfer.from_organization is None:
        raise RuleViolation(_("只有转往系统外的组织关系由转出方登记办结。"))
    sender = transfer.from_organization
    _require(actor, sender)
    _require_open(transfer)
    before = transfer_snapshot(transfer)
    _move_member(actor, transfer.member, transfer, {"standing": Standing.TRANSFERRED_OUT}, sender)
    _decide(transfer, actor, Status.ACCEPTED)
    transfer.save()
    record(
        AuditAction.UPDATE,
        actor=actor,
        instance=transfer,
        organization=sender,
        before=before,
        after=transfer_snapshot(transfer),
        reason=_("已收到系统外接收党组织回执"),
    )
    return transfer


# Hooks: dissolving an organization and the flags.


@dissolve_check
def open_transfers(organization: Organization) -> str | None:
    count = (
        Transfer.objects.filter(status=Status.ISSUED)
        .filter(Q(from_organization=organization) | Q(to_organization=organization))
        .count()
    )
    if count:
        return _("该组织还有%(n)d份未办结的组织关系转接，请先办结或撤回。") % {"n": count}
    return None


@register_flag
class ExpiredTransfer(Flag):
    key = "transfer_expired"
    label = gettext_lazy("组织关系介绍信已过有效期仍未办结")
    citation = VALIDITY_DAYS.citation
    order = 92

    def queryset(self, ctx: FlagContext):
        organizations = ctx.organizations
        return (
            Transfer.objects.filter(status=Status.ISSUED, valid_until__lt=ctx.today)
            .filter(Q(from_organization__in=organizations) | Q(to_organization__in=organizations))
            .select_related("member", "from_organization", "to_organization")
            .order_by("valid_until", "id")
        )

    def organization_of(self, obj):
        return obj.from_organization or obj.to_organization

    def describe(self, obj, ctx):
        return _("%(name)s：介绍信 %(no)s 已于 %(day)s 到期（%(from)s → %(to)s）") % {
            "name": member_name(obj),
            "no": obj.letter_number or "—",
            "day": obj.valid_until.isoformat(),
            "from": from_name(obj),
            "to": to_name(obj),
        }
