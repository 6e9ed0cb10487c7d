"""Roles and what each may do. A role is granted on an organization and covers its subtree.

System, security and audit administration are separate roles (三员分立, 等级保护 2.0): the
system administrator manages users, roles and rule settings but does not read member data or
the audit log; the security administrator unlocks accounts and sees security events; the audit
administrator reads the audit log.
"""

from enum import StrEnum

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    MEMBER = "member", _("党员")
    CLERK = "clerk", _("党务工作者")
    SECRETARY = "secretary", _("支部书记")
    COMMITTEE_ADMIN = "committee_admin", _("上级党委管理员")
    SYSTEM_ADMIN = "system_admin", _("系统管理员")
    SECURITY_ADMIN = "security_admin", _("安全管理员")
    AUDIT_ADMIN = "audit_admin", _("审计管理员")


class Perm(StrEnum):
    VIEW_ORGANIZATION = "organizations.view"
    CHANGE_ORGANIZATION = "organizations.change"  # details, committee, term, facilities
    MANAGE_STRUCTURE = "organizations.manage"  # create, move, dissolve below the grant
    MANAGE_NEW_ORGANIZATIONS = "organizations.manage_new"
    VIEW_MEMBERS = "members.view"
    MANAGE_MEMBERS = "members.manage"  # roster records, import, transfers
    UNMASK_ID = "members.unmask_id"  # see an ID number in clear (every reveal audited)
    VIEW_LIFE = "orglife.view"  # meeting records, compliance, reminder lists
    MANAGE_LIFE = "orglife.manage"  # record meetings and attendance, answer reminders
    VIEW_DUES = "dues.view"  # dues bases, ledger, collection statistics
    MANAGE_DUES = "dues.manage"  # set bases, record payments
    # the higher committee's approval of a reduction or exemption on the branches below it
    APPROVE_DUES = "dues.approve"
    VIEW_DEVELOPMENT = "development.view"  # development records, pipeline
    MANAGE_DEVELOPMENT = "development.manage"  # record the branch's steps
    # the higher committee's steps (filing, pre-review, approval) on the branches below it
    APPROVE_DEVELOPMENT = "development.approve"
    VIEW_STATISTICS = "reports.view"  # statistics, dashboards, report drafts of the subtree
    MANAGE_REPORT_TEMPLATES = "reports.manage_templates"  # edit the report templates
    MANAGE_USERS = "accounts.manage"
    MANAGE_RULES = "rules.manage"
    MANAGE_SECURITY = "security.manage"
    VIEW_AUDIT = "audit.view"


ROLE_PERMISSIONS: dict[str, frozenset[Perm]] = {
    Role.MEMBER: frozenset({Perm.VIEW_ORGANIZATION}),
    Role.CLERK: frozenset(
        {
            Perm.VIEW_ORGANIZATION,
            Perm.CHANGE_ORGANIZATION,
            Perm.MANAGE_NEW_ORGANIZATIONS,
            Perm.VIEW_MEMBERS,
            Perm.MANAGE_MEMBERS,
            Perm.UNMASK_ID,
            Perm.VIEW_LIFE,
            Perm.MANAGE_LIFE,
            Perm.VIEW_DUES,
            Perm.MANAGE_DUES,
            Perm.VIEW_DEVELOPMENT,
            Perm.MANAGE_DEVELOPMENT,
            Perm.VIEW_STATISTICS,
        }
    ),
    Role.SECRETARY: frozenset(
        {
            Perm.VIEW_ORGANIZATION,
            Perm.CHANGE_ORGANIZATION,
            Perm.MANAGE_NEW_ORGANIZATIONS,
            Perm.VIEW_MEMBERS,
            Perm.MANAGE_MEMBERS,
            Perm.UNMASK_ID,
            Perm.VIEW_LIFE,
            Perm.MANAGE_LIFE,
            Perm.VIEW_DUES,
            Perm.MANAGE_DUES,
            Perm.VIEW_DEVELOPMENT,
            Perm.MANAGE_DEVELOPMENT,
            Perm.VIEW_STATISTICS,
        }
    ),
    Role.COMMITTEE_ADMIN: frozenset(
        {
            Perm.VIEW_ORGANIZATION,
            Perm.CHANGE_ORGANIZATION,
            Perm.MANAGE_STRUCTURE,
            Perm.MANAGE_NEW_ORGANIZATIONS,
            Perm.VIEW_MEMBERS,
            Perm.MANAGE_MEMBERS,
            Perm.UNMASK_ID,
            Perm.VIEW_LIFE,
            Perm.MANAGE_LIFE,
            Perm.VIEW_DUES,
            Perm.MANAGE_DUES,
            Perm.APPROVE_DUES,
            Perm.VIEW_DEVELOPMENT,
            Perm.MANAGE_DEVELOPMENT,
            Perm.APPROVE_DEVELOPMENT,
            Perm.VIEW_STATISTICS,
            Perm.MANAGE_REPORT_TEMPLATES,
            Perm.MANAGE_USERS,
            Perm.MANAGE_RULES,
        }
    ),
    Role.SYSTEM_ADMIN: frozenset(
        {
            Perm.VIEW_ORGANIZATION,
            Perm.MANAGE_USERS,
            Perm.MANAGE_RULES,
            Perm.MANAGE_REPORT_TEMPLATES,
        }
    ),
    Role.SECURITY_ADMIN: frozenset({Perm.VIEW_ORGANIZATION, Perm.MANAGE_SECURITY}),
    Role.AUDIT_ADMIN: frozenset({Perm.VIEW_ORGANIZATION, Perm.VIEW_AUDIT}),
}

# The three separate administrative duties (三员): no one person holds two of them.
SEPARATE_DUTIES = frozenset({Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN})

# Which roles a holder of each role may grant within its subtree. The security and audit
# administrators, who watch the system administrator, are appointed only by the superuser
# (the bootstrap account), never by the system administrator.
GRANTABLE_ROLES: dict[str, frozenset[str]] = {
    Role.COMMITTEE_ADMIN: frozenset({Role.MEMBER, Role.CLERK, Role.SECRETARY}),
    Role.SYSTEM_ADMIN: frozenset(Role.values) - {Role.SECURITY_ADMIN, Role.AUDIT_ADMIN},
}
