"""Security controls (等级保护 2.0 三级), checked through real requests.

Lockout after repeated failures, password strength, a second factor for administrators,
session timeouts, no caching of personal pages, a clean deployment check, explicit form
fields, and scope re-checked on every write.
"""

from __future__ import annotations

import inspect
import os
import secrets
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django import forms
from django.conf import settings as django_settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from dangjian.accounts.models import RoleGrant
from dangjian.accounts.roles import Role
from dangjian.audit.models import AuditEvent
from dangjian.organizations.models import Organization

from .conftest import refresh, totp_code
from .factories import PASSWORD, UserFactory, edit_data, grant

BASE_DIR = Path(__file__).resolve().parent.parent
LOCKED_OUT_TEXT = "账号已锁定"


def sign_in(client: Client, username: str, password: str = PASSWORD):
    return client.post("/accounts/login/", {"username": username, "password": password})


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


# 1. Lockout after five failures (django-axes, by account).


def test_five_wrong_passwords_lock_the_account_even_for_the_right_password(db):
    user = UserFactory()
    for _ in range(django_settings.AXES_FAILURE_LIMIT):
        sign_in(Client(), user.username, "wrong-password")

    client = Client()
    response = sign_in(client, user.username)
    assert response.status_code == 429
    assert LOCKED_OUT_TEXT in response.content.decode()
    assert not signed_in(client)


def test_a_locked_account_does_not_lock_out_anyone_else(db):
    victim, colleague = UserFactory(), UserFactory()
    for _ in range(django_settings.AXES_FAILURE_LIMIT):
        sign_in(Client(), victim.username, "wrong-password")

    client = Client()
    assert sign_in(client, colleague.username).status_code == 302
    assert signed_in(client)


def test_four_failures_then_the_right_password_signs_in(db):
    user = UserFactory()
    for _ in range(django_settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(Client(), user.username, "wrong-password").status_code == 200

    client = Client()
    assert sign_in(client, user.username).status_code == 302
    assert signed_in(client)


def test_the_security_administrator_unlocks_an_account(district, login):
    user = UserFactory()
    for _ in range(django_settings.AXES_FAILURE_LIMIT):
        sign_in(Client(), user.username, "wrong-password")
    assert sign_in(Client(), user.username).status_code == 429

    security_admin = login(Role.SECURITY_ADMIN, district.root)
    page = security_admin.get("/accounts/security/")
    assert page.status_code == 200
    assert user.username in page.content.decode()
    assert (
        security_admin.post("/accounts/security/", {"username": user.username}).status_code == 302
    )

    client = Client()
    assert sign_in(client, user.username).status_code == 302
    assert signed_in(client)


def test_only_the_security_administrator_may_unlock(district, secretary_a):
    assert secretary_a.get("/accounts/security/").status_code == 403
    assert secretary_a.post("/accounts/security/", {"username": "anyone"}).status_code == 403


# 2. Password strength.


def refusals(password: str) -> dict[str, str]:
    """Why ``password`` is refused: {error code: message}."""
    with pytest.raises(ValidationError) as refused:
        validate_password(password)
    return {error.code: error.messages[0] for error in refused.value.error_list}


def test_a_short_password_is_refused():
    assert "password_too_short" in refusals("short1A")


@pytest.mark.parametrize("password", ["password123", "Password123", "Qwerty123"])
def test_a_common_password_is_refused(password):
    assert "password_too_common" in refusals(password)


def test_a_password_of_only_two_character_classes_is_refused():
    message = "密码须包含小写字母、大写字母、数字、其他符号中的至少 3 类。"
    assert refusals("abcdefgh1")["password_too_simple"] == message
    assert refusals("zhibudangjian2026")["password_too_simple"] == message


def test_a_strong_password_is_accepted():
    validate_password("Zhibu#2026ok")  # no exception


def test_changing_to_a_weak_password_is_refused_and_the_old_one_still_works(db, login):
    client = login()
    response = client.post(
        "/accounts/password/",
        {"old_password": PASSWORD, "new_password1": "abcdefgh1", "new_password2": "abcdefgh1"},
    )
    assert response.status_code == 200
    assert "至少 3 类" in response.content.decode()

    fresh = Client()
    assert sign_in(fresh, client.user.username).status_code == 302
    assert sign_in(Client(), client.user.username, "abcdefgh1").status_code == 200


# 3. Second factor for the roles that require it.


@pytest.fixture
def otp_roles(settings):
    settings.OTP_REQUIRED_ROLES = ["committee_admin", "system_admin"]


@pytest.fixture
def street_admin(district, otp_roles):
    """A committee administrator signed in with the right password only."""
    user = UserFactory()
    grant(user, district.street, Role.COMMITTEE_ADMIN)
    client = Client()
    assert sign_in(client, user.username).status_code == 302
    client.user = user
    return client


def is_redirect_to(response, path: str) -> bool:
    return response.status_code == 302 and response.url.split("?")[0] == path


def test_a_committee_admin_must_give_a_code_before_any_page(district, street_admin):
    for url in ["/", "/orgs/tree/", f"/orgs/{district.street.pk}/"]:
        response = street_admin.get(url)
        assert is_redirect_to(response, "/accounts/otp/"), url

    api = street_admin.get("/api/organizations/")
    assert api.status_code == 403
    assert api.json()["detail"] == "需要完成双因素认证。"


def test_without_a_device_the_admin_is_sent_to_set_one_up(district, street_admin):
    assert is_redirect_to(street_admin.get("/accounts/otp/"), "/accounts/otp/setup/")

    page = street_admin.get("/accounts/otp/setup/")
    assert page.status_code == 200
    secret = page.context["secret"]
    assert len(secret) >= 16
    assert secret in page.content.decode()


def test_a_correct_code_confirms_the_device_and_opens_the_pages(district, street_admin):
    street_admin.get("/accounts/otp/setup/")
    device = TOTPDevice.objects.get(user=street_admin.user, confirmed=False)

    response = street_admin.post("/accounts/otp/setup/", {"token": totp_code(device), "next": "/"})
    assert is_redirect_to(response, "/")

    device.refresh_from_db()
    assert device.confirmed
    assert street_admin.get("/").status_code == 200
    assert street_admin.get("/orgs/tree/").status_code == 200
    assert street_admin.get("/api/organizations/").status_code == 200


def wrong(code: str) -> str:
    return f"{(int(code) + 500_000) % 1_000_000:06d}"


def test_a_wrong_code_does_not_confirm_the_device(district, street_admin):
    street_admin.get("/accounts/otp/setup/")
    device = TOTPDevice.objects.get(user=street_admin.user, confirmed=False)

    response = street_admin.post("/accounts/otp/setup/", {"token": wrong(totp_code(device))})
    assert response.status_code == 200
    assert "验证码不正确" in response.content.decode()
    device.refresh_from_db()
    assert not device.confirmed
    assert is_redirect_to(street_admin.get("/"), "/accounts/otp/")


@pytest.fixture
def enrolled_admin(district, otp_roles):
    """A committee administrator who set up a device earlier, signing in again."""
    user = UserFactory()
    grant(user, district.street, Role.COMMITTEE_ADMIN)
    device = TOTPDevice.objects.create(user=user, name="TOTP", confirmed=True)
    client = Client()
    assert sign_in(client, user.username).status_code == 302
    client.user, client.device = user, device
    return client


def test_a_later_sign_in_asks_for_a_code_and_accepts_a_valid_one(district, enrolled_admin):
    assert is_redirect_to(enrolled_admin.get("/orgs/tree/"), "/accounts/otp/")
    assert enrolled_admin.get("/accounts/otp/").status_code == 200

    code = totp_code(enrolled_admin.device)
    response = enrolled_admin.post("/accounts/otp/", {"token": code, "next": "/orgs/tree/"})
    assert is_redirect_to(response, "/orgs/tree/")
    assert enrolled_admin.get("/orgs/tree/").status_code == 200


def test_a_later_sign_in_refuses_a_wrong_code(district, enrolled_admin):
    code = wrong(totp_code(enrolled_admin.device))
    response = enrolled_admin.post("/accounts/otp/", {"token": code, "next": "/"})
    assert response.status_code == 200
    assert "验证码错误或已过期" in response.content.decode()
    assert is_redirect_to(enrolled_admin.get("/"), "/accounts/otp/")


def test_a_secretary_is_not_asked_for_a_code(district, otp_roles):
    user = UserFactory()
    grant(user, district.branch_a, Role.SECRETARY)
    client = Client()
    assert sign_in(client, user.username).status_code == 302
    assert client.get("/").status_code == 200
    assert client.get(f"/orgs/{district.branch_a.pk}/").status_code == 200
    assert client.get("/api/organizations/").status_code == 200


# 4. Session timeouts: 30 minutes idle, an absolute cap from sign-in.


def set_session_clock(client: Client, **ages):
    """Set ``_seen_at`` / ``_login_at`` to that long ago (timedeltas)."""
    session = client.session
    now = timezone.now()
    for key, age in ages.items():
        session[f"_{key}"] = (now - age).timestamp()
    session.save()


def test_idle_for_more_than_the_timeout_signs_out(district, secretary_a, settings):
    assert secretary_a.get("/").status_code == 200
    set_session_clock(secretary_a, seen_at=settings.SESSION_IDLE_TIMEOUT + timedelta(minutes=1))

    response = secretary_a.get("/")
    assert is_redirect_to(response, "/accounts/login/")
    assert not signed_in(secretary_a)
    assert is_redirect_to(secretary_a.get("/"), "/accounts/login/")


def test_idle_for_less_than_the_timeout_keeps_the_session(district, secretary_a, settings):
    set_session_clock(secretary_a, seen_at=settings.SESSION_IDLE_TIMEOUT - timedelta(minutes=1))
    assert secretary_a.get("/").status_code == 200
    assert signed_in(secretary_a)


def test_an_idle_api_session_answers_401(district, secretary_a, settings):
    set_session_clock(secretary_a, seen_at=settings.SESSION_IDLE_TIMEOUT + timedelta(minutes=1))
    assert secretary_a.get("/api/organizations/").status_code == 401
    assert not signed_in(secretary_a)


def test_the_absolute_cap_signs_out_an_active_session(district, secretary_a, settings):
    set_session_clock(
        secretary_a,
        login_at=settings.SESSION_ABSOLUTE_TIMEOUT + timedelta(minutes=1),
        seen_at=timedelta(minutes=1),
    )
    assert is_redirect_to(secretary_a.get("/"), "/accounts/login/")
    assert not signed_in(secretary_a)


def test_the_absolute_cap_signs_out_an_active_api_session(district, secretary_a, settings):
    set_session_clock(
        secretary_a,
        login_at=settings.SESSION_ABSOLUTE_TIMEOUT + timedelta(minutes=1),
        seen_at=timedelta(minutes=1),
    )
    assert secretary_a.get("/api/organizations/").status_code == 401
    assert not signed_in(secretary_a)


# 5. Pages with personal data are never cached.


def test_signed_in_pages_and_api_answers_are_not_stored(district, secretary_a):
    for url in ["/", f"/orgs/{district.branch_a.pk}/", "/api/organizations/"]:
        response = secretary_a.get(url)
        assert response.status_code == 200, url
        assert "no-store" in response["Cache-Control"], url


# 6. The production configuration passes Django's deployment checks.


def manage(args: list[str], **env) -> subprocess.CompletedProcess:
    environment = {
        key: value
        for key, value in os.environ.items()
        if key
        not in {
            "DEBUG",
            "SECRET_KEY",
            "ALLOWED_HOSTS",
            "DATABASE_URL",
            "DJANGO_SETTINGS_MODULE",
            "FIELD_ENCRYPTION_KEY",
            "ID_HASH_KEY",
        }
    }
    environment.update(env, DJANGO_SETTINGS_MODULE="dangjian.settings")
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_in_production_mode(tmp_path):
    result = manage(
        ["check", "--deploy", "--fail-level", "WARNING"],
        DANGJIAN_MODE="production",
        SECRET_KEY=secrets.token_urlsafe(45),
        ALLOWED_HOSTS="dangjian.example.cn",
        DATABASE_URL=f"sqlite:///{tmp_path}/x.sqlite3",
        FIELD_ENCRYPTION_KEY=secrets.token_urlsafe(32),
        ID_HASH_KEY=secrets.token_urlsafe(32),
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_mode_without_the_personal_data_keys_does_not_start(tmp_path):
    result = manage(
        ["check"],
        DANGJIAN_MODE="production",
        SECRET_KEY=secrets.token_urlsafe(45),
        ALLOWED_HOSTS="dangjian.example.cn",
        DATABASE_URL=f"sqlite:///{tmp_path}/x.sqlite3",
    )
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEY" in result.stderr


def test_production_mode_without_a_secret_key_does_not_start(tmp_path):
    result = manage(
        ["check"],
        DANGJIAN_MODE="production",
        ALLOWED_HOSTS="dangjian.example.cn",
        DATABASE_URL=f"sqlite:///{tmp_path}/x.sqlite3",
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


# 7. Forms and serializers name their fields.


def test_every_model_form_and_serializer_lists_its_fields():
    import dangjian.accounts.forms
    import dangjian.organizations.forms
    from dangjian.organizations.api import OrganizationSerializer

    model_forms = [
        cls
        for module in (dangjian.organizations.forms, dangjian.accounts.forms)
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, forms.ModelForm) and cls.__module__ == module.__name__
    ]
    assert model_forms
    for form in model_forms:
        assert isinstance(form._meta.fields, list | tuple), form
        assert form._meta.exclude is None, form
    assert isinstance(OrganizationSerializer.Meta.fields, list)


# 8. Every write re-checks the user's scope on the server.


def test_a_secretary_cannot_edit_a_sibling_branch(district, secretary_a):
    sibling = district.branch_b
    response = secretary_a.post(
        f"/orgs/{sibling.pk}/edit/", edit_data(sibling, name="被改掉的名称")
    )
    assert response.status_code == 404
    assert refresh(sibling).name == sibling.name
    assert refresh(sibling).version == sibling.version


def test_a_secretary_edits_their_own_branch(district, secretary_a):
    own = district.branch_a
    response = secretary_a.post(
        f"/orgs/{own.pk}/edit/", edit_data(own, name="和平社区一网格党支部")
    )
    assert response.status_code in (200, 302)
    assert refresh(own).name == "和平社区一网格党支部"


def test_a_member_may_look_but_not_edit(district, login):
    member = login(Role.MEMBER, district.branch_a)
    assert member.get(f"/orgs/{district.branch_a.pk}/").status_code == 200
    assert member.get(f"/orgs/{district.branch_a.pk}/edit/").status_code == 403
    response = member.post(
        f"/orgs/{district.branch_a.pk}/edit/", edit_data(district.branch_a, name="越权修改")
    )
    assert response.status_code == 403
    assert refresh(district.branch_a).name == district.branch_a.name


def test_a_clerk_cannot_create_child_organizations(district, login):
    clerk = login(Role.CLERK, district.branch_a)
    assert clerk.get(f"/orgs/{district.branch_a.pk}/").status_code == 200
    assert clerk.get(f"/orgs/{district.branch_a.pk}/add/").status_code == 403
    response = clerk.post(
        f"/orgs/{district.branch_a.pk}/add/",
        {
            "name": "2号楼党小组",
            "org_type": "group",
            "sector": "community",
            "term_adjust_months": 0,
        },
    )
    assert response.status_code == 403
    assert not Organization.objects.filter(name="2号楼党小组").exists()


# Separation of the three administrative duties (三员分立).


def test_one_person_cannot_hold_two_of_the_separate_duties(district):
    from dangjian.accounts import services as account_services

    superuser = UserFactory(is_superuser=True)
    person = UserFactory()
    account_services.grant_role(superuser, person, district.root, Role.AUDIT_ADMIN)
    with pytest.raises(ValidationError, match="须由不同人员担任"):
        account_services.grant_role(superuser, person, district.root, Role.SYSTEM_ADMIN)
    with pytest.raises(ValidationError, match="须由不同人员担任"):
        account_services.grant_role(superuser, person, district.street, Role.SECURITY_ADMIN)


def test_the_system_administrator_does_not_appoint_auditors(district, login):
    system_admin = login(Role.SYSTEM_ADMIN, district.root)
    response = system_admin.post(
        "/accounts/grants/",
        {
            "username": "xiaoma",
            "full_name": "小马",
            "password": "Zhibu#2026ok",
            "organization": district.root.pk,
            "role": Role.AUDIT_ADMIN,
        },
    )
    assert response.status_code == 200  # the form again, with the refusal
    assert not RoleGrant.objects.filter(role=Role.AUDIT_ADMIN).exists()


def test_a_security_administrator_sees_and_unlocks_only_their_subtree(district, login, client):
    street_user, organ_user = UserFactory(), UserFactory()
    grant(street_user, district.branch_a, Role.CLERK)
    grant(organ_user, district.organ_branch, Role.CLERK)
    for user in (street_user, organ_user):
        for _ in range(django_settings.AXES_FAILURE_LIMIT):
            client.post("/accounts/login/", {"username": user.username, "password": "wrong"})
    street_security = login(Role.SECURITY_ADMIN, district.street)
    page = street_security.get("/accounts/security/").content.decode()
    assert street_user.username in page and organ_user.username not in page
    response = street_security.post("/accounts/security/", {"username": organ_user.username})
    assert response.status_code == 404
    assert AccessAttempt.objects.filter(username=organ_user.username).exists()


def test_the_client_address_is_not_taken_from_a_forged_header(db, client, settings):
    settings.TRUST_X_REAL_IP = False
    client.post(
        "/accounts/login/", {"username": "nobody", "password": "x"}, HTTP_X_REAL_IP="8.8.8.8"
    )
    event = AuditEvent.objects.get(action="login_failed")
    assert event.ip_address == "127.0.0.1"

    settings.TRUST_X_REAL_IP = True  # behind the proxy that sets it
    client.post(
        "/accounts/login/", {"username": "nobody", "password": "x"}, HTTP_X_REAL_IP="10.1.2.3"
    )
    assert AuditEvent.objects.filter(action="login_failed").latest("id").ip_address == "10.1.2.3"
