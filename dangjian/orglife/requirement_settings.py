"""A top organization's administrator sets its own version of a requirement (audited)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from dangjian.accounts.roles import Perm
from dangjian.accounts.scope import has_perm_on
from dangjian.audit.models import AuditAction
from dangjian.audit.services import record
from dangjian.organizations.models import OrgType

from .choices import MeetingKind, Period
from .models import RequirementSetting
from .requirements import DEFAULTS, MEETING_HOLDER_TYPES, requirements_for

FIELDS = ("period", "minimum", "quorum_percent", "org_types", "enabled")


def allowed_types(kind: str) -> tuple[str, ...]:
    return (OrgType.GROUP,) if kind == MeetingKind.GROUP_MEETING else MEETING_HOLDER_TYPES


def check_setting(kind: str, data: dict) -> dict[str, list[str]]:
    """Errors in a proposed setting for ``kind``, by field (empty when it is acceptable)."""
    errors: dict[str, list[str]] = {}
    if data.get("period") not in Period.values:
        errors["period"] = [_("请选择周期。")]
    minimum = data.get("minimum")
    if not isinstance(minimum, int) or not 1 <= minimum <= 31:
        errors["minimum"] = [_("每周期次数应为1到31之间的整数。")]
    quorum = data.get("quorum_percent")
    if not isinstance(quorum, int) or not 0 <= quorum <= 99:
        errors["quorum_percent"] = [_("到会比例应为0到99之间的整数（0表示不要求）。")]
    types = list(data.get("org_types") or [])
    if not types or any(t not in allowed_types(kind) for t in types):
        errors["org_types"] = [
            _("请选择适用的组织类别：党小组会只适用于党小组，其余适用于党支部或党总支。")
        ]
    return errors


def _require_admin(actor, root) -> None:
    if root.depth != 1 or not has_perm_on(actor, Perm.MANAGE_RULES, root):
        raise PermissionDenied(_("只有顶层组织的管理员可以修改组织生活要求。"))


def _as_dict(requirement) -> dict:
    return {
        "period": str(requirement.period),
        "minimum": requirement.minimum,
        "quorum_percent": requirement.quorum_percent,
        "org_types": [str(t) for t in requirement.org_types],
        "enabled": requirement.enabled,
    }


@transaction.atomic
def save_setting(actor, root, kind: str, data: dict) -> RequirementSetting:
    _require_admin(actor, root)
    if kind not in DEFAULTS:
        raise ValidationError(_("没有这种组织生活要求。"))
    errors = check_setting(kind, data)
    if errors:
        raise ValidationError(errors)
    before = next(r for r in requirements_for(root) if r.kind == kind)
    values = {field: data[field] for field in FIELDS if field in data}
    values["org_types"] = [str(t) for t in values.get("org_types", before.org_types)]
    setting, _created = RequirementSetting.objects.update_or_create(
        root=root, kind=kind, defaults={**values, "changed_by": actor}
    )
    record(
        AuditAction.UPDATE,
        actor=actor,
        organization=root,
        before=_as_dict(before),
        after=_as_dict(next(r for r in requirements_for(root) if r.kind == kind)),
        reason=_("组织生活要求：%(kind)s") % {"kind": MeetingKind(kind).label},
    )
    return setting


@transaction.atomic
def reset_setting(actor, root, kind: str) -> None:
    _require_admin(actor, root)
    before = next(r for r in requirements_for(root) if r.kind == kind)
    RequirementSetting.objects.filter(root=root, kind=kind).delete()
    record(
        AuditAction.UPDATE,
        actor=actor,
        organization=root,
        before=_as_dict(before),
        after=_as_dict(DEFAULTS[kind]),
        reason=_("组织生活要求恢复默认：%(kind)s") % {"kind": MeetingKind(kind).label},
    )
