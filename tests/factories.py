"""Test data built through the same service functions the product uses."""

from __future__ import annotations

import itertools
from datetime import date

import factory
from django.contrib.auth import get_user_model

from dangjian.accounts.models import RoleGrant
from dangjian.organizations.models import (
    CommitteeMember,
    CommitteePost,
    NewOrganization,
    Organization,
    OrgType,
    Sector,
)
from dangjian.organizations.services import apply_term
from dangjian.rules.registry import RuleBook

PASSWORD = "Zhibu#2026ok"
_names = itertools.count(1)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    full_name = factory.Sequence(lambda n: f"测试用户{n}")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


def make_org(
    parent: Organization | None = None,
    name: str | None = None,
    org_type: str = OrgType.BRANCH,
    sector: str = Sector.GOVERNMENT_ORGAN,
    secretary: bool = True,
    **fields,
) -> Organization:
    """An organization added to the tree the way treebeard adds it, with a secretary."""
    organization = Organization(
        name=name or f"测试组织{next(_names)}", org_type=org_type, sector=sector, **fields
    )
    apply_term(organization, RuleBook())
    if parent is None:
        organization = Organization.objects.add_root(instance=organization)
    else:
        organization = Organization.objects.add_child(
            Organization.objects.get(pk=parent.pk), instance=organization
        )
    if secretary and org_type != OrgType.GROUP:
        CommitteeMember.objects.create(
            organization=organization, post=CommitteePost.SECRETARY, name="张书记"
        )
    return organization


def grant(user, organization, role) -> RoleGrant:
    return RoleGrant.objects.create(user=user, organization=organization, role=role)


class NewOrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NewOrganization

    name = factory.Sequence(lambda n: f"某某科技有限公司{n}")
    category = "non_public_enterprise"
    employee_count = 20
    member_count = 0
    coverage = "uncovered"
    registered_on = date(2024, 1, 1)


def edit_data(organization: Organization, **changes) -> dict:
    """What the edit form would post back, with ``changes`` typed in."""
    from dangjian.organizations.forms import OrganizationEditForm

    form = OrganizationEditForm(instance=organization, initial={"version": organization.version})
    data = {}
    for name in form.fields:
        value = changes.get(name, form[name].value())
        if value is True:
            data[name] = "on"
        elif value not in (None, False):
            data[name] = str(value)
    return data


_id_sequence = itertools.count(1)


def valid_id_number(birth: date, male: bool = True, region: str = "110105") -> str:
    """A GB 11643 number with a correct check character, unique within the test run."""
    sequence = next(_id_sequence) % 500 * 2 + (1 if male else 0)
    first17 = f"{region}{birth:%Y%m%d}{sequence:03d}"
    from dangjian.members.idnumber import check_character

    return first17 + check_character(first17)


def make_member(organization, name: str | None = None, **fields):
    """A member saved directly (bypassing the services, for building fixtures fast)."""
    from dangjian.members.models import Member

    birth = fields.pop("birth_date", date(1980, 5, 1))
    gender = fields.pop("gender", "male")
    data = {
        "name": name or f"党员{next(_names)}",
        "gender": gender,
        "ethnicity": "汉族",
        "id_number": valid_id_number(birth, gender == "male"),
        "birth_date": birth,
        "education": "bachelor",
        "occupation": "worker",
        "joined_on": date(2005, 7, 1),
        "full_member_on": date(2006, 7, 1),
        "membership": "full",
        "standing": "normal",
        "category": "resident",
        **fields,
    }
    return Member.objects.create(organization=organization, **data)


def api_client_for(role, organization):
    """A DRF client signed in by token as a new user holding ``role`` on ``organization``
    (``client.user`` is that user)."""
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    user = UserFactory()
    grant(user, organization, role)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    client.user = user
    return client


def freeze_localdate(monkeypatch, today: date) -> date:
    """Make ``timezone.localdate()`` (without arguments) return ``today`` everywhere."""
    from django.utils import timezone

    real = timezone.localdate

    def localdate(value=None, timezone=None):
        return today if value is None else real(value, timezone)

    monkeypatch.setattr("django.utils.timezone.localdate", localdate)
    return today
