"""Shared fixtures: a small district tree with one user per role."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from dangjian.accounts.roles import Role
from dangjian.organizations.models import Organization, OrgType, Sector

from .factories import PASSWORD, UserFactory, grant, make_org


@pytest.fixture(autouse=True)
def fresh_cache():
    """Counters kept in the cache (sign-in attempts) do not leak from one test to the next."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def tasks_run_immediately(settings):
    """Background tasks run in-process during tests (production uses the database queue)."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@dataclass
class District:
    """区委 ─┬ 街道党工委 ─ 社区党委 ─┬ 第一网格党支部 ─ 楼院党小组
    │                       └ 第二网格党支部
    └ 区直机关工委 ─ 机关党支部
    """

    root: Organization
    street: Organization
    community: Organization
    branch_a: Organization
    branch_b: Organization
    group_a: Organization
    organs: Organization
    organ_branch: Organization


@pytest.fixture
def district(db) -> District:
    today = date(2026, 1, 1)
    root = make_org(None, "中共测试区委员会", OrgType.COMMITTEE, term_started_on=today)
    street = make_org(root, "东城街道党工委", OrgType.WORKING_COMMITTEE)
    community = make_org(
        street,
        "和平社区党委",
        OrgType.COMMITTEE,
        Sector.COMMUNITY,
        term_started_on=today,
        premises_area=1200,
    )
    branch_a = make_org(
        community, "和平社区第一网格党支部", OrgType.BRANCH, Sector.COMMUNITY, term_started_on=today
    )
    branch_b = make_org(
        community, "和平社区第二网格党支部", OrgType.BRANCH, Sector.COMMUNITY, term_started_on=today
    )
    group_a = make_org(branch_a, "1号楼党小组", OrgType.GROUP, Sector.COMMUNITY)
    organs = make_org(root, "区直机关工委", OrgType.WORKING_COMMITTEE)
    organ_branch = make_org(organs, "区财政局机关党支部", OrgType.BRANCH, term_started_on=today)
    return District(root, street, community, branch_a, branch_b, group_a, organs, organ_branch)


def refresh(organization: Organization) -> Organization:
    return Organization.objects.get(pk=organization.pk)


@pytest.fixture
def login(db, settings):
    """``login(role, organization)`` → a Client signed in as a new user with that grant."""
    settings.OTP_REQUIRED_ROLES = []

    def _login(role: str | None = None, organization: Organization | None = None, **user_fields):
        user = UserFactory(**user_fields)
        if role is not None:
            grant(user, organization, role)
        client = Client()
        response = client.post(
            "/accounts/login/", {"username": user.username, "password": PASSWORD}
        )
        assert response.status_code == 302, response.content.decode()[:500]
        client.user = user
        return client

    return _login


@pytest.fixture
def secretary_a(district, login):
    return login(Role.SECRETARY, district.branch_a)


@pytest.fixture
def committee_admin(district, login):
    return login(Role.COMMITTEE_ADMIN, district.street)


@pytest.fixture
def clerk(district):
    """A user keeping branch A's records (for the services; pages sign in with ``login``)."""
    user = UserFactory()
    grant(user, district.branch_a, Role.CLERK)
    return user


@pytest.fixture
def committee(district):
    """The administrator of the party committee above branch A (和平社区党委), which files,
    pre-reviews and approves for it."""
    user = UserFactory()
    grant(user, district.community, Role.COMMITTEE_ADMIN)
    return user


def totp_code(device: TOTPDevice) -> str:
    from django_otp.oath import totp

    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"
