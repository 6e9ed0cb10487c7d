"""The REST API: same scope and same rules as the pages."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from dangjian.accounts.roles import Role
from dangjian.audit.models import AuditEvent
from dangjian.organizations.models import Organization

from .conftest import refresh
from .factories import UserFactory, grant


@pytest.fixture(autouse=True)
def no_second_factor(settings):
    settings.OTP_REQUIRED_ROLES = []


def token_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def test_token_authentication_and_scoped_list(district):
    user = UserFactory()
    grant(user, district.community, Role.CLERK)
    client = token_client(user)
    names = {o["name"] for o in client.get("/api/organizations/?limit=100").json()["results"]}
    assert names == {
        district.community.name,
        district.branch_a.name,
        district.branch_b.name,
        district.group_a.name,
    }


def test_subtree_filter_and_parent(district):
    user = UserFactory()
    grant(user, district.root, Role.COMMITTEE_ADMIN)
    client = token_client(user)
    rows = client.get(f"/api/organizations/?within={district.branch_a.pk}").json()["results"]
    assert [(r["name"], r["parent"]) for r in rows] == [
        (district.branch_a.name, district.community.pk),
        (district.group_a.name, district.branch_a.pk),
    ]
    assert client.get("/api/organizations/?org_type=group").json()["count"] == 1
    assert client.get("/api/organizations/?q=机关").json()["count"] == 2


def test_within_an_organization_outside_the_scope_lists_nothing(district):
    user = UserFactory()
    grant(user, district.branch_a, Role.SECRETARY)
    client = token_client(user)
    assert client.get(f"/api/organizations/?within={district.root.pk}").json()["count"] == 0


def test_create_update_and_move_through_the_services(district):
    user = UserFactory()
    grant(user, district.root, Role.COMMITTEE_ADMIN)
    client = token_client(user)

    created = client.post(
        "/api/organizations/",
        {
            "parent_id": district.community.pk,
            "name": "第三网格党支部",
            "org_type": "branch",
            "sector": "community",
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert created.json()["parent"] == district.community.pk

    updated = client.patch(
        f"/api/organizations/{pk}/", {"address": "和平路8号", "version": 1}, format="json"
    )
    assert updated.status_code == 200 and updated.json()["version"] == 2
    stale = client.patch(
        f"/api/organizations/{pk}/", {"address": "旧值", "version": 1}, format="json"
    )
    assert stale.status_code == 400
    assert stale.json()["changes"][0]["field"] == "address"

    moved = client.post(
        f"/api/organizations/{pk}/move/", {"parent_id": district.organs.pk}, format="json"
    )
    assert moved.status_code == 200
    assert Organization.objects.get(pk=pk).path.startswith(refresh(district.organs).path)
    assert set(AuditEvent.objects.filter(object_id=str(pk)).values_list("action", flat=True)) == {
        "create",
        "update",
        "move",
    }


def test_api_refuses_tree_rule_violations_in_chinese(district):
    user = UserFactory()
    grant(user, district.root, Role.COMMITTEE_ADMIN)
    client = token_client(user)
    response = client.post(
        "/api/organizations/",
        {
            "parent_id": district.community.pk,
            "name": "错误",
            "org_type": "group",
            "sector": "community",
        },
        format="json",
    )
    assert response.status_code == 400
    body = response.json()
    assert "党小组不能设在党委之下" in body["detail"] and body["code"] == "rule"
    assert body["citation"]
    response = client.post(
        f"/api/organizations/{district.street.pk}/move/",
        {"parent_id": district.branch_a.pk},
        format="json",
    )
    assert response.status_code == 400
    assert "不能把组织调整到它自身或其下级组织之下" in response.json()["detail"]


def test_api_writes_outside_the_scope_are_refused(district):
    user = UserFactory()
    grant(user, district.branch_a, Role.SECRETARY)
    client = token_client(user)
    response = client.patch(
        f"/api/organizations/{district.branch_b.pk}/", {"name": "改名", "version": 1}, format="json"
    )
    assert response.status_code == 404
    response = client.post(
        "/api/organizations/",
        {
            "parent_id": district.branch_a.pk,
            "name": "小组",
            "org_type": "group",
            "sector": "community",
        },
        format="json",
    )
    assert response.status_code == 403  # a secretary does not manage the structure
    assert refresh(district.branch_b).name == district.branch_b.name


def test_openapi_schema_and_docs_need_login(client, district):
    assert client.get("/api/schema/").status_code in (401, 403)
    assert client.get("/api/docs/").status_code in (401, 403)
    user = UserFactory()
    grant(user, district.branch_a, Role.MEMBER)
    api = token_client(user)
    schema = api.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/organizations/{id}/move/" in schema.content
    docs = api.get("/api/docs/")
    assert docs.status_code == 200 and b"swagger-ui" in docs.content


def test_a_token_does_not_skip_the_second_factor(district, settings):
    """A token made before the user became an administrator cannot act for the administrator."""
    user = UserFactory()
    grant(user, district.branch_a, Role.MEMBER)
    client = token_client(user)
    grant(user, district.root, Role.COMMITTEE_ADMIN)
    settings.OTP_REQUIRED_ROLES = ["committee_admin"]
    response = client.get("/api/organizations/")
    assert response.status_code == 401
    assert "双因素认证" in response.json()["detail"]

    # Enrolled, then a new token (made, as the tokens page requires, after a code): accepted.
    TOTPDevice.objects.create(user=user, name="TOTP", confirmed=True)
    Token.objects.filter(user=user).delete()
    assert token_client(user).get("/api/organizations/").status_code == 200


def test_tokens_expire(district, settings):
    user = UserFactory()
    grant(user, district.branch_a, Role.SECRETARY)
    client = token_client(user)
    assert client.get("/api/organizations/").status_code == 200
    Token.objects.filter(user=user).update(
        created=timezone.now() - timedelta(days=settings.API_TOKEN_DAYS + 1)
    )
    response = client.get("/api/organizations/")
    assert response.status_code == 401
    assert "已过期" in response.json()["detail"]


def test_within_must_be_a_number(district):
    user = UserFactory()
    grant(user, district.root, Role.CLERK)
    assert token_client(user).get("/api/organizations/?within=abc").json()["count"] == 0


def test_the_parent_above_the_scope_is_not_revealed(district):
    user = UserFactory()
    grant(user, district.branch_a, Role.SECRETARY)
    row = token_client(user).get(f"/api/organizations/{district.branch_a.pk}/").json()
    assert row["parent"] is None


def test_the_openapi_schema_generates_without_warnings(db):
    from django.core.management import call_command

    call_command("spectacular", "--fail-on-warn", "--file", "/dev/null")
