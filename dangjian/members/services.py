"""Keeping the roster: the record's rules, history, and who may see an ID number."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dangjian.accounts.roles import Perm
from dangjian.accounts.scope import has_perm_on
from dangjian.audit.models import AuditAction
from dangjian.audit.services import record, snapshot
from dangjian.organizations.models import OrgType
from dangjian.organizations.services import StaleEdit, changes_since, require

from . import idnumber
from .choices import Membership, Standing
from .models import Member

MEMBER_FIELDS = [
    "organization",
    "name",
    "gender",
    "ethnicity",
    "id_number",
    "birth_date",
    "education",
    "occupation",
    "work_unit",
    "phone",
    "address",
    "joined_on",
    "full_member_on",
    "membership",
    "standing",
    "category",
    "floating_destination",
    "floating_since",
    "lost_contact_since",
]
# The 党小组 is the branch's own arrangement, set by its clerk on the edit form: kept out of
# MEMBER_FIELDS, which the import, the API and a transfer's incoming record also use.
EDIT_FIELDS = [*MEMBER_FIELDS, "party_group"]
ADULT_AGE = 18  # 《中国共产党章程》第一条：年满十八岁


def age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def check_record(data: dict, today: date | None = None) -> dict[str, list[str]]:
    """Field errors (Chinese) of a member record; empty when it follows the rules."""
    today = today or timezone.localdate()
    errors: dict[str, list[str]] = {}

    def add(field, message):
        errors.setdefault(field, []).append(message)

    parsed = None
    try:
        parsed = idnumber.parse(data.get("id_number") or "", today)
    except ValidationError as error:
        add("id_number", error.messages[0])
    birth = data.get("birth_date")
    if parsed and birth and parsed.birth_date != birth:
        add("birth_date", _("出生日期与身份证号不一致（身份证号为 %s）。") % parsed.birth_date)
    if parsed and data.get("gender") and parsed.gender != data["gender"]:
        add("gender", _("性别与身份证号不一致。"))
    joined, full = data.get("joined_on"), data.get("full_member_on")
    if joined and joined > today:
        add("joined_on", _("入党日期不能晚于今天。"))
    if joined and birth and age_on(birth, joined) < ADULT_AGE:
        add("joined_on", _("入党时未满十八周岁（《中国共产党章程》第一条）。"))
    if full and joined and full < joined:
        add("full_member_on", _("转正日期不能早于入党日期。"))
    if data.get("membership") == Membership.PROBATIONARY and full:
        add("full_member_on", _("预备党员尚未转正，不应填写转正日期。"))
    if data.get("standing") == Standing.FLOATING and not data.get("floating_destination"):
        add("floating_destination", _("流动党员请填写外出流向。"))
    if data.get("standing") == Standing.LOST_CONTACT and not data.get("lost_contact_since"):
        add("lost_contact_since", _("失联党员请填写失去联系的日期。"))
    return errors


def check_party_group(organization, group) -> dict[str, list[str]]:
    """A member's 党小组 must be an active group set up directly under their organization."""
    if group is None:
        return {}
    if (
        organization is None
        or group.org_type != OrgType.GROUP
        or group.parent_path != organization.path
    ):
        name = organization.name if organization is not None else ""
        return {"party_group": [_("所在党小组须是“%(org)s”下设的党小组。") % {"org": name}]}
    if not group.is_active:
        return {"party_group": [_("“%(group)s”已撤销。") % {"group": group.name}]}
    return {}


def member_snapshot(member: Member) -> dict:
    """The record for the history: ID and phone numbers masked, never in clear."""
    data = snapshot(member)
    data.pop("id_hash", None)
    data["id_number"] = idnumber.mask(member.id_number)
    data["phone"] = idnumber.mask_phone(member.phone)
    return data


def _apply(member: Member, data: dict) -> None:
    for field in EDIT_FIELDS:
        if field in data:
            setattr(member, field, data[field])
    member.id_number = idnumber.normalize(member.id_number)


def _check_unique(actor, member: Member) -> None:
    """One record per ID number; where it is registered is told only to those who may see it."""
    clash = Member.objects.filter(id_hash=idnumber.lookup_hash(member.id_number))
    if member.pk:
        clash = clash.exclude(pk=member.pk)
    other = clash.select_related("organization").first()
    if other is None:
        return
    if has_perm_on(actor, Perm.VIEW_MEMBERS, other.organization):
        message = _("该身份证号已登记在“%(org)s”。") % {"org": other.organization.name}
    else:
        message = _("该身份证号已在系统内登记，请联系上级党组织核实，或办理组织关系转接。")
    raise ValidationError({"id_number": message})


@transaction.atomic
def create_member(actor, data: dict) -> Member:
    require(actor, Perm.MANAGE_MEMBERS, data["organization"], _("您无权管理“%(org)s”的党员。"))
    errors = check_record(data) | check_party_group(data["organization"], data.get("party_group"))
    if errors:
        raise ValidationError(errors)
    member = Member()
    _apply(member, data)
    _check_unique(actor, member)
    member.save()
    record(
        AuditAction.CREATE,
        actor=actor,
        instance=member,
        organization=member.organization,
        after=member_snapshot(member),
    )
    return member


@transaction.atomic
def update_member(actor, member: Member, data: dict, version: int) -> Member:
    current = Member.objects.select_for_update().get(pk=member.pk)
    require(actor, Perm.MANAGE_MEMBERS, current.organization, _("您无权管理“%(org)s”的党员。"))
    if "organization" in data and data["organization"].pk != current.organization_id:
        raise ValidationError({"organization": _("调整所在党组织请办理组织关系转接。")})
    if current.version != version:
        raise StaleEdit(changes_since(current, version))
    merged = {field: getattr(current, field) for field in MEMBER_FIELDS}
    merged.update(data)
    errors = check_record(merged)
    if "party_group" in data:
        errors |= check_party_group(current.organization, data["party_group"])
    if errors:
        raise ValidationError(errors)
    before = member_snapshot(current)
    _apply(current, data)
    _check_unique(actor, current)
    current.version += 1
    current.save()
    record(
        AuditAction.UPDATE,
        actor=actor,
        instance=current,
        organization=current.organization,
        before=before,
        after=member_snapshot(current),
    )
    return current


def may_unmask(actor, member: Member) -> bool:
    """Roles allowed to unmask, and the member themself (audited all the same)."""
    own = member.user_id is not None and member.user_id == getattr(actor, "pk", None)
    return own or has_perm_on(actor, Perm.UNMASK_ID, member.organization)


@transaction.atomic
def reveal_id_number(actor, member: Member, reason: str = "") -> str:
    """The ID number in clear, for those allowed; every reveal goes into the audit log."""
    if not may_unmask(actor, member):
        raise PermissionDenied(_("您无权查看完整身份证号。"))
    record(
        AuditAction.READ,
        actor=actor,
        instance=member,
        organization=member.organization,
        reason=reason or "查看完整身份证号",
    )
    return member.id_number


def history(member: Member):
    from dangjian.audit.models import AuditEvent

    return AuditEvent.objects.filter(
        object_type=member._meta.label_lower, object_id=str(member.pk)
    ).exclude(action=AuditAction.READ)
