"""The audit log: every change recorded with who, what, before and after; append-only;
written in the change's own transaction; readable by audit administrators within their scope.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.utils import timezone

from dangjian.accounts.roles import Role
from dangjian.audit.models import AuditAction, AuditEvent
from dangjian.audit.services import record
from dangjian.organizations import services
from dangjian.organizations.models import Organization, OrgType, Sector

from .conftest import refresh
from .factories import PASSWORD, UserFactory, edit_data, grant


def last_event(action: str, **filters) -> AuditEvent:
    return AuditEvent.objects.filter(action=action, **filters).latest("id")


# 1. Each change is recorded: who, what, before, after.


def test_creating_an_organization_is_recorded(district, committee_admin):
    response = committee_admin.post(
        f"/orgs/{district.community.pk}/add/",
        {
            "name": "和平社区第三网格党支部",
            "org_type": OrgType.BRANCH,
            "sector": Sector.COMMUNITY,
            "term_adjust_months": 0,
        },
    )
    assert response.status_code == 302
    created = Organization.objects.get(name="和平社区第三网格党支部")

    event = last_event(AuditAction.CREATE, object_id=str(created.pk))
    assert event.actor == committee_admin.user
    assert event.actor_name == committee_admin.user.username
    assert event.object_repr == "和平社区第三网格党支部"
    assert event.after["name"] == "和平社区第三网格党支部"
    assert event.organization_path == created.path


def test_editing_an_organization_records_before_and_after(district, committee_admin):
    branch = district.branch_a
    response = committee_admin.post(
        f"/orgs/{branch.pk}/edit/", edit_data(branch, address="和平路1号")
    )
    assert response.status_code == 302

    event = last_event(AuditAction.UPDATE, object_id=str(branch.pk))
    assert event.actor == committee_admin.user
    assert event.before["address"] == ""
    assert event.after["address"] == "和平路1号"
    assert event.before["name"] == event.after["name"] == branch.name
    assert ("address", "", "和平路1号") in event.changes()


def test_moving_an_organization_records_the_old_and_new_parent(district, committee_admin):
    group = district.group_a
    response = committee_admin.post(f"/orgs/{group.pk}/move/", {"new_parent": district.branch_b.pk})
    assert response.status_code == 302

    event = last_event(AuditAction.MOVE, object_id=str(group.pk))
    assert event.actor == committee_admin.user
    assert event.before["parent"] == district.branch_a.pk
    assert event.before["parent_name"] == district.branch_a.name
    assert event.after["parent"] == district.branch_b.pk
    assert event.after["path"] == refresh(group).path


def test_dissolving_an_organization_is_recorded_with_its_reason(district, committee_admin):
    group = district.group_a
    response = committee_admin.post(
        f"/orgs/{group.pk}/dissolve/",
        {"dissolved_on": "2026-03-01", "reason": "街道党工委批复〔2026〕3号"},
    )
    assert response.status_code == 302

    event = last_event(AuditAction.DISSOLVE, object_id=str(group.pk))
    assert event.actor == committee_admin.user
    assert event.reason == "街道党工委批复〔2026〕3号"
    assert event.before["dissolved_on"] is None
    assert event.after["dissolved_on"] == "2026-03-01"


def test_granting_a_role_is_recorded(district, login):
    system_admin = login(Role.SYSTEM_ADMIN, district.root)
    newcomer = UserFactory()
    response = system_admin.post(
        "/accounts/grants/",
        {"username": newcomer.username, "organization": district.branch_a.pk, "role": "secretary"},
    )
    assert response.status_code == 302

    event = last_event(AuditAction.GRANT)
    assert event.actor == system_admin.user
    assert event.after == {
        "user": newcomer.username,
        "organization": district.branch_a.name,
        "role": "secretary",
    }
    assert event.organization_path == district.branch_a.path


def test_a_failed_sign_in_is_recorded_with_the_name_tried(db):
    response = Client().post("/accounts/login/", {"username": "zhangsan", "password": "nope"})
    assert response.status_code == 200

    event = last_event(AuditAction.LOGIN_FAILED)
    assert event.actor_name == "zhangsan"
    assert event.actor is None


def test_a_successful_sign_in_is_recorded(db):
    user = UserFactory()
    response = Client().post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302

    event = last_event(AuditAction.LOGIN)
    assert event.actor == user
    assert event.actor_name == user.username


# 2. Append-only, in the application and in the database.


@pytest.fixture
def event(db):
    return record(AuditAction.LOGIN, actor_name="lisi", reason="原始记录")


def test_the_application_cannot_change_or_delete_audit_events(event):
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).update(reason="改过")
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    event.reason = "改过"
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        event.delete()
    assert AuditEvent.objects.get(pk=event.pk).reason == "原始记录"


def test_the_database_refuses_to_update_audit_events(event):
    refused = pytest.raises(DatabaseError, match="append-only")
    with refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET reason = 'x'")
    assert AuditEvent.objects.get(pk=event.pk).reason == "原始记录"


def test_the_database_refuses_to_delete_recent_audit_events(event):
    refused = pytest.raises(DatabaseError, match="retention period")
    with refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent")
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_rows_older_than_the_retention_period_may_be_purged(event, settings):
    old = timezone.now() - timedelta(days=settings.AUDIT_RETENTION_DAYS + 1)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO audit_auditevent (at, actor_name, action, object_type, object_id,"
            " object_repr, organization_path, reason)"
            " VALUES (%s, 'wangwu', 'login', '', '', '', '', '归档')",
            [connection.ops.adapt_datetimefield_value(old)],
        )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM audit_auditevent WHERE at < %s",
            [connection.ops.adapt_datetimefield_value(old + timedelta(days=1))],
        )
    assert not AuditEvent.objects.filter(actor_name="wangwu").exists()
    assert AuditEvent.objects.filter(pk=event.pk).exists()


# 3. Written in the same transaction as the change.


def test_a_rolled_back_change_leaves_no_audit_event(district):
    actor = UserFactory()
    grant(actor, district.street, Role.COMMITTEE_ADMIN)
    data = {"name": "回滚的党支部", "org_type": OrgType.BRANCH, "sector": Sector.COMMUNITY}

    with pytest.raises(RuntimeError), transaction.atomic():
        created = services.create_organization(actor, district.community, data)
        assert AuditEvent.objects.filter(object_id=str(created.pk)).exists()
        raise RuntimeError("a later step of the same change fails")

    assert not Organization.objects.filter(name="回滚的党支部").exists()
    assert not AuditEvent.objects.filter(object_repr="回滚的党支部").exists()


# 4. Who may read which events.


@pytest.fixture
def history(district):
    """An edit in the street's subtree, an edit under the organs committee, and a sign-in."""
    district_admin = UserFactory()
    grant(district_admin, district.root, Role.COMMITTEE_ADMIN)
    services.update_organization(
        district_admin, district.branch_a, {"address": "和平路1号"}, district.branch_a.version
    )
    services.update_organization(district_admin, district.organ_branch, {"address": "府前街9号"}, 1)
    services.move_organization(district_admin, district.group_a, district.branch_b)
    signer = UserFactory(username="wangxiaoming")
    Client().post("/accounts/login/", {"username": signer.username, "password": PASSWORD})
    return district


def listed(client: Client, query: str = "") -> list[AuditEvent]:
    response = client.get(f"/audit/{query}")
    assert response.status_code == 200
    return list(response.context["events"])


def test_an_audit_admin_sees_the_events_of_their_subtree_only(history, login):
    auditor = login(Role.AUDIT_ADMIN, history.street)
    events = listed(auditor)

    names = {event.object_repr for event in events}
    assert history.branch_a.name in names
    assert history.organ_branch.name not in names
    assert all(event.organization_path.startswith(history.street.path) for event in events)
    assert not any(event.actor_name == "wangxiaoming" for event in events)

    page = auditor.get("/audit/").content.decode()
    assert "和平路1号" in page
    assert "府前街9号" not in page


def test_an_audit_admin_of_the_top_organization_also_sees_sign_ins(history, login):
    auditor = login(Role.AUDIT_ADMIN, history.root)
    events = listed(auditor)

    names = {event.object_repr for event in events}
    assert {history.branch_a.name, history.organ_branch.name} <= names
    sign_ins = [e for e in events if e.action == AuditAction.LOGIN]
    assert any(e.actor_name == "wangxiaoming" and e.organization_path == "" for e in sign_ins)


def test_the_audit_log_can_be_filtered_by_action(history, login):
    auditor = login(Role.AUDIT_ADMIN, history.root)
    events = listed(auditor, "?action=move")

    assert [event.object_repr for event in events] == [history.group_a.name]
    assert {event.action for event in events} == {AuditAction.MOVE}


@pytest.mark.parametrize("role", [Role.SECRETARY, Role.COMMITTEE_ADMIN, Role.SYSTEM_ADMIN])
def test_other_roles_may_not_read_the_audit_log(district, login, role):
    client = login(role, district.root)
    assert client.get("/audit/").status_code == 403
