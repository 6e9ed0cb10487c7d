"""The monthly key-work reminder list (重点工作提醒单): built from the compliance engine and the
flags registry, answered on its page, e-mailed once by a job that is safe to run twice.

The clock is frozen: services take ``today`` and ``month`` explicitly, pages and the task read
a patched ``timezone.localdate``, the command takes ``--today``.
"""

from __future__ import annotations

from datetime import date

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail.backends.base import BaseEmailBackend
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dangjian.accounts.roles import ROLE_PERMISSIONS, Perm, Role
from dangjian.audit.models import AuditEvent
from dangjian.organizations.models import CommitteeMember, CommitteePost, Organization, OrgType
from dangjian.orglife.choices import MeetingKind, MeetingStatus
from dangjian.orglife.models import Meeting
from dangjian.reminders import services, tasks
from dangjian.reminders.models import ReminderItem, ReminderList
from dangjian.rules.models import RuleOverride

from .factories import UserFactory, grant, make_member, make_org

TODAY = date(2026, 11, 24)
NOVEMBER = date(2026, 11, 1)


class FailingBackend(BaseEmailBackend):
    def send_messages(self, messages):
        raise OSError("SMTP server unreachable")


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: TODAY)


@pytest.fixture(autouse=True)
def locmem_mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def with_committee(branch):
    """A branch committee (organization member) makes 支委会 owed."""
    CommitteeMember.objects.create(
        organization=branch, post=CommitteePost.ORGANIZATION, name="李委员"
    )


def generate(org, month=NOVEMBER, today=TODAY):
    return services.generate(Organization.objects.within(org), month, today)


def items_of(branch, month=NOVEMBER) -> dict[str, ReminderItem]:
    return {
        i.title: i
        for i in ReminderItem.objects.filter(
            reminder_list__organization=branch, reminder_list__month=month
        )
    }


def hold(branch, kind, day, expected=5, present=4):
    return Meeting.objects.create(
        organization=branch,
        kind=kind,
        status=MeetingStatus.HELD,
        date=day,
        topic="会议",
        expected_count=expected,
        present_count=present,
    )


# Generation.


def test_committee_meeting_due_this_month_then_resolved_by_the_meeting(district):
    branch = district.branch_a
    with_committee(branch)
    generate(district.root)
    item = items_of(branch)["本月尚未召开支委会"]
    assert item.due_on == date(2026, 11, 30)
    assert "《中国共产党支部工作条例（试行）》第十二条" in item.citation
    assert "半数以上委员到会" in item.citation
    assert item.source == ReminderItem.Source.REQUIREMENT
    assert item.key == "orglife:committee_meeting:2026-11"
    assert not item.resolved_automatically
    # Branch B has no committee: it owes no 支委会.
    assert "本月尚未召开支委会" not in items_of(district.branch_b)

    # Without quorum a meeting does not count.
    hold(branch, MeetingKind.COMMITTEE_MEETING, date(2026, 11, 5), expected=5, present=2)
    generate(district.root)
    item.refresh_from_db()
    assert not item.resolved_automatically

    hold(branch, MeetingKind.COMMITTEE_MEETING, date(2026, 11, 10), expected=5, present=4)
    generate(district.root)
    item.refresh_from_db()
    assert item.resolved_automatically
    assert item.done_at is None
    # Rebuilding twice creates nothing new.
    count = ReminderItem.objects.count()
    result = generate(district.root)
    assert ReminderItem.objects.count() == count
    assert result.created == 0 and result.updated == 0 and result.resolved == 0
    assert ReminderList.objects.filter(organization=branch, month=NOVEMBER).count() == 1


def test_monthly_quarterly_and_group_work(district):
    titles = items_of_after_generate(district)
    assert "本月尚未开展主题党日" in titles
    assert "本季度尚未召开支部党员大会" in titles
    assert titles["本季度尚未召开支部党员大会"].due_on == date(2026, 12, 31)
    # The 党小组's own work is on its branch's list.
    group_item = titles["1号楼党小组：本月尚未召开党小组会"]
    assert group_item.key == f"orglife:group_meeting:2026-11:org:{district.group_a.pk}"
    # Only branches get lists; committees and the group do not.
    assert not ReminderList.objects.filter(organization=district.community).exists()
    assert not ReminderList.objects.filter(organization=district.group_a).exists()
    assert ReminderList.objects.filter(month=NOVEMBER).count() == 3


def items_of_after_generate(district):
    generate(district.root)
    return items_of(district.branch_a)


def test_yearly_work_appears_only_within_the_lead_window(district):
    def titles(month, today):
        generate(district.root, month, today)
        return set(items_of(district.branch_a, month))

    assert "本年度尚未召开组织生活会" not in titles(date(2026, 3, 1), date(2026, 3, 10))
    assert "本年度尚未召开组织生活会" not in titles(date(2026, 9, 1), date(2026, 9, 10))
    october = titles(date(2026, 10, 1), date(2026, 10, 5))
    assert "本年度尚未召开组织生活会" in october
    assert "本年度尚未讲党课" in october
    # March still has its quarterly work.
    assert "本季度尚未召开支部党员大会" in titles(date(2026, 3, 1), date(2026, 3, 10))

    # A locality that reminds one month ahead sees it only in December.
    RuleOverride.objects.create(root=district.root, key="orglife.reminder_lead_months", value=1)
    assert "本年度尚未召开组织生活会" not in titles(NOVEMBER, TODAY)
    assert "本年度尚未召开组织生活会" in titles(date(2026, 12, 1), date(2026, 12, 2))


def test_overdue_periods_are_not_listed(district):
    # Nothing was held all year, yet November's list names November's work only.
    generate(district.root)
    keys = {i.key for i in items_of(district.branch_a).values()}
    assert "orglife:theme_day:2026-11" in keys
    assert not any(k.startswith("orglife:theme_day:2026-10") for k in keys)


def test_flag_hits_appear_on_the_branch_list(district):
    Organization.objects.filter(pk=district.branch_a.pk).update(term_due_on=date(2027, 3, 1))
    member = make_member(district.group_a, "王五", last_participated_on=date(2026, 4, 1))
    generate(district.root)
    items = items_of(district.branch_a)
    term = items["任期即将届满，需准备换届"]
    assert term.source == ReminderItem.Source.FLAG
    assert term.key == f"flag:term_due_soon:organization:{district.branch_a.pk}"
    assert term.due_on == date(2027, 3, 1)
    assert "《关于党的基层组织任期的意见》" in term.citation
    absent = items["连续6个月未参加组织生活的党员"]
    assert absent.key == f"flag:absent_from_life:member:{member.pk}"
    assert absent.detail.startswith("王五：")
    assert "《中国共产党章程》第九条" in absent.citation
    assert "任期即将届满，需准备换届" not in items_of(district.branch_b)

    # The term is renewed: the item is resolved by the system at the next rebuild.
    Organization.objects.filter(pk=district.branch_a.pk).update(term_due_on=date(2031, 1, 1))
    generate(district.root)
    term.refresh_from_db()
    assert term.resolved_automatically


def test_generation_is_set_based(district):
    """The reads do not grow with the branches (the writes are batched by the database's
    parameter limit only)."""

    def queries():
        ReminderList.objects.all().delete()
        with CaptureQueriesContext(connection) as captured:
            generate(district.root)
        return sum(q["sql"].lstrip().upper().startswith("SELECT") for q in captured)

    few = queries()
    for i in range(10):
        branch = make_org(district.community, f"新支部{i}", OrgType.BRANCH)
        make_org(branch, f"新党小组{i}", OrgType.GROUP)
    assert queries() == few
    assert ReminderList.objects.filter(month=NOVEMBER).count() == 13


# Marking done.


def test_mark_done_needs_a_note_and_manage_life_and_is_audited(district, login):
    generate(district.root)
    item = items_of(district.branch_a)["本月尚未开展主题党日"]
    clerk = login(Role.CLERK, district.branch_a)

    response = clerk.post(f"/reminders/items/{item.pk}/done/", {"note": "  "}, HTTP_HX_REQUEST="1")
    assert response.status_code == 200
    assert "请填写完成情况说明" in response.content.decode()
    item.refresh_from_db()
    assert item.done_at is None

    response = clerk.post(
        f"/reminders/items/{item.pk}/done/",
        {"note": "11月15日开展主题党日，已补录"},
        HTTP_HX_REQUEST="1",
    )
    page = response.content.decode()
    assert "11月15日开展主题党日，已补录" in page
    assert f'id="item-{item.pk}"' in page
    item.refresh_from_db()
    assert item.done_at is not None and item.done_by == clerk.user
    event = AuditEvent.objects.get(object_type="reminders.reminderitem", object_id=str(item.pk))
    assert event.reason == "11月15日开展主题党日，已补录"
    assert event.organization_path == district.branch_a.path
    assert event.after["note"] == "11月15日开展主题党日，已补录"

    # The meeting is then recorded: the item stays done, with its note, through rebuilds.
    hold(district.branch_a, MeetingKind.THEME_DAY, date(2026, 11, 15))
    generate(district.root)
    generate(district.root)
    item.refresh_from_db()
    assert item.done_at is not None and item.note == "11月15日开展主题党日，已补录"
    assert not item.resolved_automatically


def test_mark_done_refused_without_manage_life(district, login, monkeypatch):
    generate(district.root)
    item = items_of(district.branch_a)["本月尚未开展主题党日"]
    member = login(Role.MEMBER, district.branch_a)
    # A member sees no reminder list at all.
    assert member.post(f"/reminders/items/{item.pk}/done/", {"note": "x"}).status_code == 404
    with pytest.raises(PermissionDenied):
        services.mark_done(member.user, item, "x")
    # A role that could read lists but not answer them gets a 403.
    monkeypatch.setitem(
        ROLE_PERMISSIONS, Role.MEMBER, ROLE_PERMISSIONS[Role.MEMBER] | {Perm.VIEW_LIFE}
    )
    assert member.get(f"/reminders/{district.branch_a.pk}/").status_code == 200
    assert member.post(f"/reminders/items/{item.pk}/done/", {"note": "x"}).status_code == 403
    # Out of scope: another branch's secretary.
    other = login(Role.SECRETARY, district.branch_b)
    assert other.post(f"/reminders/items/{item.pk}/done/", {"note": "x"}).status_code == 404
    item.refresh_from_db()
    assert item.done_at is None
    with pytest.raises(ValidationError):
        services.mark_done(UserFactory(is_superuser=True), item, "")


# Pages and scope.


def test_branch_page_and_scope(district, secretary_a):
    with_committee(district.branch_a)
    page = secretary_a.get(f"/reminders/{district.branch_a.pk}/").content.decode()
    assert "2026年11月重点工作提醒单" in page
    assert "本月尚未召开支委会" in page
    assert "2026-11-30 前完成" in page
    assert "第十二条" in page
    assert "标记完成" in page
    assert secretary_a.get(f"/reminders/{district.branch_b.pk}/").status_code == 404
    assert secretary_a.get(f"/reminders/{district.community.pk}/").status_code == 404

    hold(district.branch_a, MeetingKind.COMMITTEE_MEETING, date(2026, 11, 10))
    response = secretary_a.post(f"/reminders/{district.branch_a.pk}/regenerate/", follow=True)
    page = response.content.decode()
    assert "<s>本月尚未召开支委会</s>" in page
    assert "系统核验已完成" in page

    # A past month is shown as kept; none was built for it.
    page = secretary_a.get(f"/reminders/{district.branch_a.pk}/?month=2026-10").content.decode()
    assert "该月提醒单尚未生成" in page
    assert not ReminderList.objects.filter(month=date(2026, 10, 1)).exists()


def test_committee_overview_lists_its_subtree_only(district, committee_admin):
    page = committee_admin.get(f"/reminders/{district.street.pk}/").content.decode()
    assert district.branch_a.name in page
    assert district.branch_b.name in page
    assert district.organ_branch.name not in page
    assert f"/reminders/{district.branch_a.pk}/?month=2026-11" in page
    assert not ReminderList.objects.filter(organization=district.organ_branch).exists()
    assert committee_admin.get(f"/reminders/{district.organs.pk}/").status_code == 404
    assert committee_admin.get(f"/reminders/{district.organ_branch.pk}/").status_code == 404
    page = committee_admin.get(f"/reminders/{district.branch_b.pk}/").content.decode()
    assert "本月尚未开展主题党日" in page


def test_home_page_shows_this_months_list(district, secretary_a, login):
    page = secretary_a.get("/").content.decode()
    assert "和平社区第一网格党支部 · 11月重点工作提醒单" in page
    assert "本月尚未开展主题党日" in page
    assert ReminderList.objects.filter(organization=district.branch_a, month=NOVEMBER).exists()
    # A committee user gets a link to the overview, and no list is built for it.
    committee = login(Role.COMMITTEE_ADMIN, district.street)
    page = committee.get("/").content.decode()
    assert f"/reminders/{district.street.pk}/" in page
    assert not ReminderList.objects.filter(organization=district.organ_branch).exists()
    # A member has no reminder section.
    member = login(Role.MEMBER, district.branch_b)
    assert "重点工作提醒单" not in member.get("/").content.decode()


# Sending.


def recipients(district):
    secretary = UserFactory(email="secretary@example.org")
    grant(secretary, district.branch_a, Role.SECRETARY)
    clerk = UserFactory(email="clerk@example.org")
    grant(clerk, district.branch_a, Role.CLERK)
    member = UserFactory(email="member@example.org")
    grant(member, district.branch_a, Role.MEMBER)
    above = UserFactory(email="community@example.org")
    grant(above, district.community, Role.SECRETARY)
    grant(UserFactory(email=""), district.branch_b, Role.SECRETARY)
    return secretary, clerk


def test_sending_twice_sends_each_reminder_once(district):
    recipients(district)
    first = services.send(NOVEMBER, TODAY)
    assert first.messages == 1 and first.failed == 0
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert sorted(message.to) == ["clerk@example.org", "secretary@example.org"]
    assert "和平社区第一网格党支部" in message.subject
    assert "本月尚未开展主题党日" in message.body
    assert "2026-11-30" in message.body
    assert "《中国共产党支部工作条例（试行）》第十六条" in message.body
    sent = ReminderItem.objects.filter(reminder_list__organization=district.branch_a)
    assert first.items == sent.count()
    assert not sent.filter(sent_at__isnull=True).exists()
    # Branch B's secretary has no e-mail address: its items wait, unsent.
    assert not ReminderItem.objects.filter(
        reminder_list__organization=district.branch_b, sent_at__isnull=False
    ).exists()

    second = services.send(NOVEMBER, TODAY)
    assert second.messages == 0
    assert len(mail.outbox) == 1

    # Something new becomes due: only that goes out, in a second message.
    Organization.objects.filter(pk=district.branch_a.pk).update(term_due_on=date(2027, 3, 1))
    services.send(NOVEMBER, TODAY)
    assert len(mail.outbox) == 2
    assert "任期即将届满" in mail.outbox[1].body
    assert "本月尚未开展主题党日" not in mail.outbox[1].body


def test_command_twice_sends_once(district):
    recipients(district)
    call_command("send_reminders", "--month", "2026-11", "--today", "2026-11-24")
    call_command("send_reminders", "--month", "2026-11", "--today", "2026-11-24")
    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    for item in ReminderItem.objects.filter(reminder_list__organization=district.branch_a):
        assert body.count(item.title) == 1, item.title


def test_task_twice_sends_once(district):
    recipients(district)
    tasks.send_reminders.enqueue("2026-11")
    tasks.send_reminders.enqueue()
    assert len(mail.outbox) == 1


def test_done_and_resolved_items_are_not_sent(district):
    recipients(district)
    generate(district.root)
    items = items_of(district.branch_a)
    services.mark_done(UserFactory(is_superuser=True), items["本月尚未开展主题党日"], "已开展")
    services.send(NOVEMBER, TODAY)
    assert "本月尚未开展主题党日" not in mail.outbox[0].body
    assert "本季度尚未召开支部党员大会" in mail.outbox[0].body


def test_a_failing_backend_releases_the_claim(district, settings):
    recipients(district)
    settings.EMAIL_BACKEND = "tests.test_reminders.FailingBackend"
    result = services.send(NOVEMBER, TODAY)
    assert result.failed == 1 and result.messages == 0
    assert not ReminderItem.objects.filter(sent_at__isnull=False).exists()
    with pytest.raises(CommandError):
        call_command("send_reminders", "--month", "2026-11", "--today", "2026-11-24")
    assert not ReminderItem.objects.filter(sent_at__isnull=False).exists()

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert services.send(NOVEMBER, TODAY).messages == 1
    assert len(mail.outbox) == 1


def test_a_claim_is_taken_once(district):
    generate(district.root)
    reminder_list = ReminderList.objects.get(organization=district.branch_a, month=NOVEMBER)
    stamp, claimed = services.claim(reminder_list.pk)
    assert claimed
    assert services.claim(reminder_list.pk)[1] == []
    services.release(claimed, stamp)
    assert len(services.claim(reminder_list.pk)[1]) == len(claimed)
