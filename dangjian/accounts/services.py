"""Users and role grants. Every grant and revocation goes into the audit log."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from dangjian.audit.models import AuditAction
from dangjian.audit.services import record, snapshot

from . import scope
from .models import RoleGrant
from .roles import GRANTABLE_ROLES, SEPARATE_DUTIES, Perm, Role


def grantable_roles(actor, organization) -> set[str]:
    """The roles ``actor`` may grant on ``organization``."""
    if actor.is_superuser:
        return set(Role.values)
    if not scope.has_perm_on(actor, Perm.MANAGE_USERS, organization):
        return set()
    allowed: set[str] = set()
    for role in scope.roles_on(actor, organization):
        allowed |= GRANTABLE_ROLES.get(role, frozenset())
    return allowed


@transaction.atomic
def create_user(actor, username: str, full_name: str, password: str):
    if not (actor.is_superuser or scope.has_perm_anywhere(actor, Perm.MANAGE_USERS)):
        raise PermissionDenied(_("您无权新建用户。"))
    User = get_user_model()
    if User.objects.filter(username=username).exists():
        raise ValidationError(_("用户名“%(u)s”已存在。") % {"u": username})
    user = User(username=username, full_name=full_name)
    validate_password(password, user)
    user.set_password(password)
    user.save()
    record(
        AuditAction.CREATE,
        actor=actor,
        instance=user,
        after=snapshot(user, ["username", "full_name", "is_active"]),
    )
    return user


@transaction.atomic
def grant_role(actor, user, organization, role: str) -> RoleGrant:
    if user.pk == actor.pk:
        raise PermissionDenied(_("不能给自己授予角色。"))
    if role not in grantable_roles(actor, organization):
        raise PermissionDenied(
            _("您无权在“%(org)s”授予“%(role)s”角色。")
            % {"org": organization.name, "role": Role(role).label}
        )
    if role in SEPARATE_DUTIES:
        held = set(user.role_grants.filter(role__in=SEPARATE_DUTIES).values_list("role", flat=True))
        others = held - {role}
        if others or (user.is_superuser and role != Role.SYSTEM_ADMIN):
            raise ValidationError(
                _("系统管理员、安全管理员、审计管理员须由不同人员担任（该用户已是%(roles)s）。")
                % {
                    "roles": "、".join(str(Role(r).label) for r in sorted(others))
                    or _("超级管理员")
                }
            )
    grant, created = RoleGrant.objects.get_or_create(
        user=user, organization=organization, role=role, defaults={"granted_by": actor}
    )
    if created:
        record(
            AuditAction.GRANT,
            actor=actor,
            instance=grant,
            organization=organization,
            after={"user": user.username, "organization": organization.name, "role": role},
        )
    scope.forget(user)
    return grant


@transaction.atomic
def revoke_role(actor, grant: RoleGrant) -> None:
    if grant.role not in grantable_roles(actor, grant.organization):
        raise PermissionDenied(_("您无权撤销该角色。"))
    before = {
        "user": grant.user.username,
        "organization": grant.organization.name,
        "role": grant.role,
    }
    record(
        AuditAction.REVOKE,
        actor=actor,
        instance=grant,
        organization=grant.organization,
        before=before,
    )
    grant.delete()
    scope.forget(grant.user)
