from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from dangjian.accounts.roles import Perm
from dangjian.accounts.scope import has_perm_on
from dangjian.audit.models import AuditAction
from dangjian.audit.services import record

from .models import RuleOverride
from .registry import RULES

# Called with (root, key) after a rule changes, in the same transaction: apps that store
# values derived from a rule (e.g. term due dates) bring them up to date.
RULE_CHANGE_HOOKS: list = []


def on_rule_change(func):
    RULE_CHANGE_HOOKS.append(func)
    return func


def _changed(root, key):
    for hook in RULE_CHANGE_HOOKS:
        hook(root, key)


@transaction.atomic
def set_rule(actor, root, key: str, value) -> RuleOverride | None:
    """Set (or with ``value`` None, reset) a configurable rule for a top organization's tree."""
    rule = RULES.get(key)
    if rule is None or not rule.configurable:
        raise ValidationError(_("该规则不可配置。"))
    if root.depth != 1 or not has_perm_on(actor, Perm.MANAGE_RULES, root):
        raise PermissionDenied(_("只有顶层组织的管理员可以修改规则设置。"))
    current = RuleOverride.objects.filter(root=root, key=key).first()
    before = {"value": str(current.value) if current else str(rule.default)}
    if value is None or value == "":
        if current:
            current.delete()
        record(
            AuditAction.UPDATE,
            actor=actor,
            organization=root,
            before=before,
            after={"value": str(rule.default)},
            reason=f"恢复默认：{key}",
        )
        _changed(root, key)
        return None
    try:
        coerced = rule.coerce(value)
    except (ValueError, ArithmeticError) as error:
        raise ValidationError(f"{rule.label}：{error}") from error
    override, _created = RuleOverride.objects.update_or_create(
        root=root, key=key, defaults={"value": coerced, "changed_by": actor}
    )
    record(
        AuditAction.UPDATE,
        actor=actor,
        instance=override,
        organization=root,
        before=before,
        after={"value": str(coerced)},
        reason=f"规则设置：{key}",
    )
    _changed(root, key)
    return override
