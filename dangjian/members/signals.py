"""Hooks into the organizations app: an organization with members cannot be dissolved."""

from django.utils.translation import gettext as _

from dangjian.organizations.services import dissolve_check

from .models import Member


@dissolve_check
def members_on_roster(organization) -> str | None:
    count = Member.objects.filter(organization=organization).on_roster().count()
    if count:
        return _("该组织还有%(n)d名党员，请先转出组织关系。") % {"n": count}
    return None
