"""Who may use and edit report templates, and saving them (audited, optimistic version
check)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from dangjian.accounts.roles import Perm
from dangjian.accounts.scope import has_perm_on, scope_paths
from dangjian.audit import services as audit
from dangjian.audit.models import AuditAction as Action
from dangjian.organizations.models import Organization
from dangjian.organizations.services import StaleEdit

from .models import ReportTemplate


def visible_templates(user, organization: Organization | None = None):
    """The shipped templates and those kept by ``organization`` or any organization above
    it (all the user's scope when no organization is given)."""
    q = Q(organization__isnull=True)
    targets = [organization] if organization is not None else None
    if targets is None:
        paths = scope_paths(user, Perm.VIEW_STATISTICS)
        if paths is None:
            return ReportTemplate.objects.all()
        targets = list(Organization.objects.filter(path__in=paths))
    for target in targets:
        q |= Q(organization__path__in=[*target.ancestor_paths, target.path])
        if organization is None:
            q |= Q(organization__in=Organization.objects.within(target))
    return ReportTemplate.objects.filter(q).select_related("organization")


def can_edit(user, template: ReportTemplate) -> bool:
    """A shipped template is edited by whoever manages templates at the top of a tree (or
    the superuser); an organization's own by whoever manages templates there."""
    if template.organization is None:
        if user.is_superuser:
            return True
        paths = scope_paths(user, Perm.MANAGE_REPORT_TEMPLATES) or []
        return any(len(p) == Organization.steplen for p in paths)
    return has_perm_on(user, Perm.MANAGE_REPORT_TEMPLATES, template.organization)


def save_template(actor, template: ReportTemplate, expected_version: int | None = None):
    """Create or update ``template`` (its fields already set), audited in the same
    transaction. ``expected_version`` guards against overwriting another's edit."""
    if not can_edit(actor, template):
        raise PermissionDenied(_("您没有编辑此报告模板的权限。"))
    with transaction.atomic():
        if template.pk is None:
            template.updated_by = actor
            template.save()
            audit.record(
                Action.CREATE,
                actor=actor,
                instance=template,
                organization=template.organization,
                after=audit.snapshot(template),
            )
            return template
        current = ReportTemplate.objects.select_for_update().get(pk=template.pk)
        if expected_version is not None and current.version != expected_version:
            who = current.updated_by.get_full_name() if current.updated_by else ""
            raise StaleEdit(
                [
                    (field, None, getattr(current, field), who)
                    for field in ("name", "description", "default_part", "body")
                    if getattr(current, field) != getattr(template, field)
                ]
            )
        before = audit.snapshot(current)
        template.version = current.version + 1
        template.updated_by = actor
        template.save()
        audit.record(
            Action.UPDATE,
            actor=actor,
            instance=template,
            organization=template.organization,
            before=before,
            after=audit.snapshot(template),
        )
    return template
