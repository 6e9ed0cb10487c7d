"""Changing the organization tree. The UI and the API both call these, and only these.

Every function re-checks the actor's scope on the server, enforces the tree rules, and records
the change in the audit log inside the same transaction.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from dangjian.accounts.roles import Perm
from dangjian.accounts.scope import has_perm_on
from dangjian.audit.models import AuditAction, AuditEvent
from dangjian.audit.services import record, snapshot
from dangjian.rules.registry import RuleBook
from dangjian.rules.services import on_rule_change

from .models import (
    COMMITTEE_TYPES,
    CommitteeMember,
    NewOrganization,
    Organization,
    OrgType,
    RegionalLink,
    VillageIncome,
)
from .rules import TERM_MAX_ADJUST_MONTHS, TREE_RULES, default_term_years


class RuleViolation(ValidationError):
    """A change the regulations do not allow; the message names the rule and its source."""

    def __init__(self, message: str, citation: str = ""):
        self.citation = str(citation)
        text = f"{message}（依据：{citation}）" if citation else message
        super().__init__(text, code="rule")


class StaleEdit(Exception):
    """Somebody saved the record after this form was opened."""

    def __init__(self, changes: list[tuple[str, object, object, str]]):
        self.changes = changes  # (field, value then, value now, who)
        super().__init__("stale edit")


# Fields only the organization above may change (see update_organization).
STRUCTURAL_FIELDS = ["org_type", "sector", "term_years", "term_adjust_months"]

EDITABLE_FIELDS = [
    "name",
    "code",
    "org_type",
    "sector",
    "unit_name",
    "address",
    "founded_on",
    "term_started_on",
    "term_years",
    "term_adjust_months",
    "term_adjust_reason",
    "premises_area",
    "has_venue",
    "has_facilities",
    "has_sign",
    "has_flag",
    "has_books",
    "has_rules",
]

# Things that keep an organization from being dissolved. Later apps add theirs (members,
# open transfers…): each takes the organization and returns a reason, or None.
DissolveCheck = Callable[[Organization], str | None]
DISSOLVE_CHECKS: list[DissolveCheck] = []


def dissolve_check(func: DissolveCheck) -> DissolveCheck:
    DISSOLVE_CHECKS.append(func)
    return func


def rulebook_for(organization: Organization | None) -> RuleBook:
    if organization is None:
        return RuleBook()
    root = Organization.objects.filter(path=organization.root_path).first()
    return RuleBook.for_root(root)


def require(actor, permission: str, organization: Organization, message: str = "") -> None:
    """PermissionDenied unless ``actor`` holds ``permission`` there; ``message`` may name
    the organization as %(org)s."""
    if not has_perm_on(actor, permission, organization):
        message = message or _("您无权在“%(org)s”执行此操作。")
        raise PermissionDenied(message % {"org": organization.name})


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def months_between(earlier: date, later: date) -> int:
    """Whole months from ``earlier``'s month to ``later``'s (negative if later is earlier)."""
    return (later.year - earlier.year) * 12 + later.month - earlier.month


def type_label(org_type: str) -> str:
    return str(OrgType(org_type).label)


def check_parent(org_type: str, parent: Organization | None) -> None:
    rule = TREE_RULES[org_type]
    if parent is None:
        if not rule.root_allowed:
            raise RuleViolation(
                _("%(type)s不能作为顶层组织。") % {"type": type_label(org_type)}, rule.citation
            )
        return
    if not parent.is_active:
        raise RuleViolation(_("上级组织“%(org)s”已撤销。") % {"org": parent.name})
    if parent.org_type not in rule.parents:
        allowed = "、".join(type_label(t) for t in OrgType.values if t in rule.parents)
        raise RuleViolation(
            _("%(type)s不能设在%(parent)s之下，只能设在%(allowed)s之下。")
            % {
                "type": type_label(org_type),
                "parent": type_label(parent.org_type),
                "allowed": allowed,
            },
            rule.citation,
        )


def check_children_fit(organization: Organization, new_type: str) -> None:
    """Changing a node's type must leave every child's type allowed under it."""
    child_types = set(
        Organization.objects.get_children(organization).active().values_list("org_type", flat=True)
    )
    for child_type in sorted(child_types):
        rule = TREE_RULES[child_type]
        if new_type not in rule.parents:
            raise RuleViolation(
                _("该组织下设有%(child)s，不能改为%(type)s。")
                % {"child": type_label(child_type), "type": type_label(new_type)},
                rule.citation,
            )


def apply_term(organization: Organization, rules: RuleBook) -> None:
    """Fill the term length from the rules when not given, and derive the due date."""
    max_adjust = rules[TERM_MAX_ADJUST_MONTHS.key]
    if abs(organization.term_adjust_months or 0) > max_adjust:
        raise RuleViolation(
            _("延期或提前换届一般不超过%(n)d个月。") % {"n": max_adjust},
            TERM_MAX_ADJUST_MONTHS.citation,
        )
    if organization.term_adjust_months and not organization.term_adjust_reason.strip():
        raise RuleViolation(
            _("延期或提前换届须经上级党组织批准，请填写批准情况。"), TERM_MAX_ADJUST_MONTHS.citation
        )
    if not organization.term_years_custom:
        organization.term_years = default_term_years(
            organization.org_type, organization.sector, rules
        )
    if organization.term_started_on and organization.term_years:
        organization.term_due_on = add_months(
            organization.term_started_on,
            organization.term_years * 12 + (organization.term_adjust_months or 0),
        )
    else:
        organization.term_due_on = None


@transaction.atomic
def create_organization(actor, parent: Organization | None, data: dict) -> Organization:
    if parent is None:
        if not getattr(actor, "is_superuser", False):
            raise PermissionDenied(_("只有超级管理员可以新建顶层组织。"))
    else:
        parent = Organization.objects.select_for_update().get(pk=parent.pk)
        require(actor, Perm.MANAGE_STRUCTURE, parent)
    organization = Organization(
        **{k: v for k, v in data.items() if k in EDITABLE_FIELDS and k != "term_years"}
    )
    set_term_years(organization, data)
    check_parent(organization.org_type, parent)
    apply_term(organization, rulebook_for(parent))
    if parent is None:
        organization = Organization.objects.add_root(instance=organization)
    else:
        organization = Organization.objects.add_child(parent, instance=organization)
    record(AuditAction.CREATE, actor=actor, instance=organization, after=snapshot(organization))
    return organization


def changes_since(instance, version: int) -> list[tuple[str, object, object, str]]:
    """What others changed in ``instance`` after ``version``, from the audit log."""
    events = AuditEvent.objects.filter(
        object_type=instance._meta.label_lower, object_id=str(instance.pk)
    ).order_by("id")
    changes = []
    for event in events:
        if (event.after or {}).get("version", 0) > version:
            for field, old, new in event.changes():
                if field not in ("version", "updated_at"):
                    changes.append((field, old, new, event.actor_name))
    return changes


def require_active(organization: Organization) -> None:
    if not organization.is_active:
        raise RuleViolation(_("“%(org)s”已撤销，不能再修改。") % {"org": organization.name})


def set_term_years(organization: Organization, data: dict) -> None:
    """An explicit term length is kept as given; an empty one follows the rules."""
    if "term_years" in data:
        organization.term_years = data["term_years"]
        organization.term_years_custom = data["term_years"] is not None


@transaction.atomic
def update_organization(actor, organization: Organization, data: dict, version: int):
    current = Organization.objects.select_for_update().get(pk=organization.pk)
    require(actor, Perm.CHANGE_ORGANIZATION, current)
    require_active(current)
    if current.version != version:
        raise StaleEdit(changes_since(current, version))
    before = snapshot(current)
    for field, value in data.items():
        if field in EDITABLE_FIELDS and field != "term_years":
            setattr(current, field, value)
    set_term_years(current, data)
    apply_term(current, rulebook_for(current))
    changed = {f for f in STRUCTURAL_FIELDS if getattr(current, f) != before[f]}
    if changed:
        # Type, sector, term length and extensions are decided above the organization: a
        # branch's own secretary cannot turn it into a 总支 or prolong its own term.
        parent = Organization.objects.get_parent(current)
        if parent is None:
            if not getattr(actor, "is_superuser", False):
                raise PermissionDenied(_("只有超级管理员可以修改顶层组织的类别和任期。"))
        elif not has_perm_on(actor, Perm.MANAGE_STRUCTURE, parent):
            labels = "、".join(
                str(Organization._meta.get_field(f).verbose_name) for f in sorted(changed)
            )
            raise PermissionDenied(_("%(fields)s须由上级党组织调整。") % {"fields": labels})
    if current.org_type != before["org_type"]:
        check_parent(current.org_type, Organization.objects.get_parent(current))
        check_children_fit(current, current.org_type)
    current.version = F("version") + 1
    current.save()
    current.refresh_from_db()
    record(
        AuditAction.UPDATE, actor=actor, instance=current, before=before, after=snapshot(current)
    )
    return current


@transaction.atomic
def move_organization(actor, organization: Organization, new_parent: Organization):
    organization = Organization.objects.select_for_update().get(pk=organization.pk)
    new_parent = Organization.objects.select_for_update().get(pk=new_parent.pk)
    old_parent = Organization.objects.get_parent(organization)
    if old_parent is None:
        raise RuleViolation(_("顶层组织不能调整隶属关系。"))
    require(actor, Perm.MANAGE_STRUCTURE, old_parent)
    require(actor, Perm.MANAGE_STRUCTURE, new_parent)
    if not organization.is_active:
        raise RuleViolation(_("已撤销的组织不能调整隶属关系。"))
    if new_parent.path.startswith(organization.path):
        raise RuleViolation(_("不能把组织调整到它自身或其下级组织之下。"))
    if new_parent.pk == old_parent.pk:
        raise RuleViolation(_("新的上级组织与原上级组织相同。"))
    check_parent(organization.org_type, new_parent)
    before = {"parent": old_parent.pk, "parent_name": old_parent.name, "path": organization.path}
    Organization.objects.move(organization, new_parent, "last-child")
    organization.refresh_from_db()
    record(
        AuditAction.MOVE,
        actor=actor,
        instance=organization,
        before=before,
        after={"parent": new_parent.pk, "parent_name": new_parent.name, "path": organization.path},
    )
    return organization


@dissolve_check
def _active_children(organization: Organization) -> str | None:
    count = Organization.objects.get_children(organization).active().count()
    if count:
        return _("该组织下还有%(n)d个下级组织，请先撤销或调出。") % {"n": count}
    return None


@dissolve_check
def _new_organizations(organization: Organization) -> str | None:
    count = NewOrganization.objects.filter(area=organization).count()
    if count:
        return _("该组织属地还登记有%(n)d个两新组织，请先移交。") % {"n": count}
    return None


@dissolve_check
def _covered_new_organizations(organization: Organization) -> str | None:
    count = NewOrganization.objects.filter(party_organization=organization).count()
    if count:
        return _("该组织是%(n)d个两新组织所建的党组织，请先调整其覆盖方式。") % {"n": count}
    return None


def dissolve_blockers(organization: Organization) -> list[str]:
    return [reason for check in DISSOLVE_CHECKS if (reason := check(organization))]


@transaction.atomic
def dissolve_organization(actor, organization: Organization, on: date, reason: str):
    organization = Organization.objects.select_for_update().get(pk=organization.pk)
    parent = Organization.objects.get_parent(organization)
    if parent is None:
        raise RuleViolation(_("顶层组织不能撤销。"))
    require(actor, Perm.MANAGE_STRUCTURE, parent)
    if not organization.is_active:
        raise RuleViolation(_("该组织已经撤销。"))
    if not reason.strip():
        raise ValidationError(_("请填写撤销原因。"))
    if on > timezone.localdate():
        raise ValidationError(_("撤销日期不能晚于今天。"))
    if organization.founded_on and on < organization.founded_on:
        raise ValidationError(_("撤销日期不能早于成立日期。"))
    blockers = dissolve_blockers(organization)
    if blockers:
        raise RuleViolation(" ".join(blockers))
    before = snapshot(organization)
    # The committee goes with the organization.
    organization.committee_members.filter(ended_on__isnull=True).update(ended_on=on)
    organization.dissolved_on = on
    organization.dissolution_reason = reason
    organization.version = F("version") + 1
    organization.save()
    organization.refresh_from_db()
    record(
        AuditAction.DISSOLVE,
        actor=actor,
        instance=organization,
        before=before,
        after=snapshot(organization),
        reason=reason,
    )
    return organization


@transaction.atomic
def add_committee_member(actor, organization: Organization, data: dict) -> CommitteeMember:
    require(actor, Perm.CHANGE_ORGANIZATION, organization)
    require_active(organization)
    member = CommitteeMember(organization=organization, **data)
    member.full_clean()
    member.save()
    record(AuditAction.CREATE, actor=actor, instance=member, after=snapshot(member))
    return member


@transaction.atomic
def end_committee_member(actor, member: CommitteeMember, on: date) -> CommitteeMember:
    require(actor, Perm.CHANGE_ORGANIZATION, member.organization)
    before = snapshot(member)
    member.ended_on = on
    member.save()
    record(AuditAction.UPDATE, actor=actor, instance=member, before=before, after=snapshot(member))
    return member


@transaction.atomic
def set_village_income(actor, organization: Organization, year: int, amount) -> VillageIncome:
    require(actor, Perm.CHANGE_ORGANIZATION, organization)
    require_active(organization)
    income = VillageIncome.objects.filter(organization=organization, year=year).first()
    before = snapshot(income) if income else None
    if income is None:
        income = VillageIncome(organization=organization, year=year)
    income.amount = amount
    income.full_clean()
    income.save()
    record(
        AuditAction.UPDATE if before else AuditAction.CREATE,
        actor=actor,
        instance=income,
        before=before,
        after=snapshot(income),
    )
    return income


@transaction.atomic
def add_regional_link(actor, hub: Organization, data: dict) -> RegionalLink:
    require(actor, Perm.CHANGE_ORGANIZATION, hub)
    require_active(hub)
    if hub.org_type not in COMMITTEE_TYPES:
        raise RuleViolation(_("联建单位只能加入街道大工委或社区大党委（党委、党工委）。"))
    link = RegionalLink(hub=hub, **data)
    if link.unit_organization_id and link.unit_organization.path.startswith(hub.path):
        raise RuleViolation(_("下级组织本已隶属于该组织，无需作为驻区单位联建。"))
    if link.unit_organization_id and not link.unit_name:
        link.unit_name = link.unit_organization.name
    link.full_clean()
    link.save()
    record(AuditAction.CREATE, actor=actor, instance=link, organization=hub, after=snapshot(link))
    return link


@transaction.atomic
def end_regional_link(actor, link: RegionalLink, on: date) -> RegionalLink:
    require(actor, Perm.CHANGE_ORGANIZATION, link.hub)
    before = snapshot(link)
    link.left_on = on
    link.save()
    record(
        AuditAction.UPDATE,
        actor=actor,
        instance=link,
        organization=link.hub,
        before=before,
        after=snapshot(link),
    )
    return link


NEW_ORGANIZATION_FIELDS = [
    "name",
    "credit_code",
    "category",
    "small_business_type",
    "area",
    "employee_count",
    "member_count",
    "coverage",
    "party_organization",
    "instructor_name",
    "checked_at_registration",
    "checked_at_growth",
    "checked_at_inspection",
    "registered_on",
]


@transaction.atomic
def save_new_organization(
    actor, instance: NewOrganization | None, data: dict, version: int | None = None
) -> NewOrganization:
    """Create or update a register entry; the area (and covering organization) must be in scope."""
    area = data["area"]
    require(actor, Perm.MANAGE_NEW_ORGANIZATIONS, area)
    if data.get("party_organization") is not None:
        require(actor, Perm.VIEW_ORGANIZATION, data["party_organization"])
    before = None
    if instance is None:
        instance = NewOrganization()
    else:
        instance = NewOrganization.objects.select_for_update().get(pk=instance.pk)
        require(actor, Perm.MANAGE_NEW_ORGANIZATIONS, instance.area)
        if version is not None and instance.version != version:
            raise StaleEdit(changes_since(instance, version))
        before = snapshot(instance)
        instance.version += 1
    for field in NEW_ORGANIZATION_FIELDS:
        if field in data:
            setattr(instance, field, data[field])
    if instance.category != "small_business":
        instance.small_business_type = ""
    instance.updated_by = actor if getattr(actor, "is_authenticated", False) else None
    instance.full_clean()
    instance.save()
    record(
        AuditAction.UPDATE if before else AuditAction.CREATE,
        actor=actor,
        instance=instance,
        organization=instance.area,
        before=before,
        after=snapshot(instance),
    )
    return instance


@on_rule_change
def recompute_terms(root: Organization, key: str) -> None:
    """A term rule changed: organizations following the rules get the new length and due date.

    A rare administrative act; the tree is updated in batches.
    """
    if not key.startswith("term."):
        return
    rules = RuleBook.for_root(root)
    changed = []
    for organization in (
        Organization.objects.within(root)
        .filter(term_years_custom=False)
        .only(
            "id",
            "path",
            "depth",
            "org_type",
            "sector",
            "term_started_on",
            "term_years",
            "term_years_custom",
            "term_adjust_months",
            "term_adjust_reason",
            "term_due_on",
        )
        .iterator(chunk_size=2000)
    ):
        old = (organization.term_years, organization.term_due_on)
        apply_term(organization, rules)
        if (organization.term_years, organization.term_due_on) != old:
            changed.append(organization)
    Organization.objects.bulk_update(changed, ["term_years", "term_due_on"], batch_size=1000)
