"""组织关系转接 through real requests: the member moves only when the receiving side accepts.

The district: 和平社区第一网格党支部 (branch_a) sends, 区财政局机关党支部 (organ_branch) receives,
和平社区第二网格党支部 (branch_b) is a third branch that sees neither side.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

import dangjian.members.transfers as transfers  # registers the flag and the rule
from dangjian.accounts.roles import Role
from dangjian.audit.models import AuditAction, AuditEvent
from dangjian.core.flags import FLAGS, FlagContext
from dangjian.members import idnumber, services
from dangjian.members.choices import Category, Education, Membership, Occupation, Standing
from dangjian.members.models import Member, Transfer
from dangjian.organizations.models import Organization
from dangjian.organizations.services import dissolve_blockers
from dangjian.rules.models import RuleOverride
from dangjian.rules.registry import RuleBook

Status = Transfer.Status
BASE = "/members/transfers/"


def id_number(birth: str = "19850312", sequence: str = "123") -> str:
    first17 = "110105" + birth + sequence
    return first17 + idnumber.check_character(first17)


def member_data(organization, name="李明", number=None) -> dict:
    number = number or id_number()
    parsed = idnumber.parse(number)
    return {
        "organization": organization,
        "name": name,
        "gender": parsed.gender,
        "ethnicity": "汉族",
        "id_number": number,
        "birth_date": parsed.birth_date,
        "education": Education.BACHELOR,
        "occupation": Occupation.WORKER,
        "joined_on": date(2010, 7, 1),
        "full_member_on": date(2011, 7, 1),
        "membership": Membership.FULL,
        "standing": Standing.NORMAL,
        "category": Category.RESIDENT,
    }


@pytest.fixture
def sender(district, login):
    return login(Role.CLERK, district.branch_a)


@pytest.fixture
def receiver(district, login):
    return login(Role.CLERK, district.organ_branch)


@pytest.fixture
def stranger(district, login):
    return login(Role.CLERK, district.branch_b)


@pytest.fixture
def member(district, sender):
    return services.create_member(sender.user, member_data(district.branch_a))


def issue(client, member, **fields):
    data = {"reason": "工作调动", "dues_paid_until": "2026-10", **fields}
    return client.post(f"{BASE}new/?member={member.pk}", data)


@pytest.fixture
def transfer(district, sender, member):
    response = issue(sender, member, to_organization=district.organ_branch.pk)
    assert response.status_code == 302, response.content.decode()[:2000]
    return Transfer.objects.get(member=member)


def refreshed(obj):
    return type(obj).objects.get(pk=obj.pk)


def events(obj):
    return AuditEvent.objects.filter(object_type=obj._meta.label_lower, object_id=str(obj.pk))


def expire(transfer):
    Transfer.objects.filter(pk=transfer.pk).update(
        valid_until=timezone.localdate() - timedelta(days=1)
    )


# Issuing and accepting.


def test_issuing_keeps_the_member_where_they_are(district, transfer, member, receiver):
    assert refreshed(member).organization == district.branch_a
    assert transfer.status == Status.ISSUED
    assert transfer.from_organization == district.branch_a
    assert transfer.to_organization == district.organ_branch
    assert transfer.letter_number == f"{timezone.localdate().year}-0001"
    assert transfer.dues_paid_until == date(2026, 10, 1)  # stored as the month's first day
    assert transfer.valid_until == transfer.issued_on + timedelta(days=90)
    # The receiving side does not see the member on its roster yet.
    assert receiver.get(f"/members/{member.pk}/").status_code == 404


def test_the_receiving_clerk_sees_it_and_accepting_moves_the_member(
    district, transfer, member, sender, receiver
):
    listing = receiver.get(f"{BASE}?tab=in").content.decode()
    assert member.name in listing and transfer.letter_number in listing
    page = receiver.get(f"{BASE}{transfer.pk}/")
    assert page.status_code == 200
    assert "接收组织关系" in page.content.decode()

    response = receiver.post(f"{BASE}{transfer.pk}/accept/")
    assert response.status_code == 302

    moved = refreshed(member)
    assert moved.organization == district.organ_branch
    assert moved.version == member.version + 1
    assert refreshed(transfer).status == Status.ACCEPTED
    assert refreshed(transfer).decided_by == receiver.user
    member_update = events(member).get(action=AuditAction.UPDATE)
    assert member_update.before["organization"] == district.branch_a.pk
    assert member_update.after["organization"] == district.organ_branch.pk
    assert set(events(transfer).values_list("action", flat=True)) == {
        AuditAction.CREATE,
        AuditAction.UPDATE,
    }
    # Both sides still see the transfer and its history; the member is now the receiver's.
    detail = sender.get(f"{BASE}{transfer.pk}/").content.decode()
    assert "已接收" in detail and "接收" in detail
    assert receiver.get(f"/members/{member.pk}/").status_code == 200
    assert sender.get(f"/members/{member.pk}/").status_code == 404


def test_returning_with_a_reason_keeps_the_member_and_records_the_reason(
    district, transfer, member, sender, receiver
):
    receiver.post(f"{BASE}{transfer.pk}/return/", {"return_reason": ""})
    assert refreshed(transfer).status == Status.ISSUED  # a reason is required

    receiver.post(f"{BASE}{transfer.pk}/return/", {"return_reason": "介绍信抬头有误"})
    returned = refreshed(transfer)
    assert returned.status == Status.RETURNED
    assert returned.return_reason == "介绍信抬头有误"
    assert refreshed(member).organization == district.branch_a
    assert events(transfer).filter(reason="介绍信抬头有误").exists()
    assert "介绍信抬头有误" in sender.get(f"{BASE}{transfer.pk}/").content.decode()
    # The sender may issue a new letter now.
    assert issue(sender, member, to_organization=district.organ_branch.pk).status_code == 302
    assert Transfer.objects.get(member=member, status=Status.ISSUED).letter_number.endswith("0002")


def test_a_third_branch_gets_404(transfer, stranger):
    for url in ("", "letter/"):
        assert stranger.get(f"{BASE}{transfer.pk}/{url}").status_code == 404
    for url in ("accept/", "return/", "cancel/"):
        assert stranger.post(f"{BASE}{transfer.pk}/{url}").status_code == 404
    assert transfer.letter_number not in stranger.get(BASE).content.decode()
    assert refreshed(transfer).status == Status.ISSUED


def test_the_sender_cannot_accept_their_own_outgoing_transfer(district, transfer, member, sender):
    assert sender.post(f"{BASE}{transfer.pk}/accept/").status_code == 403
    assert sender.post(f"{BASE}{transfer.pk}/return/", {"return_reason": "x"}).status_code == 403
    assert refreshed(transfer).status == Status.ISSUED
    assert refreshed(member).organization == district.branch_a


def test_the_receiver_cannot_cancel_and_the_sender_can(transfer, sender, receiver):
    assert receiver.post(f"{BASE}{transfer.pk}/cancel/").status_code == 403
    sender.post(f"{BASE}{transfer.pk}/cancel/", {"reason": "党员暂缓调动"})
    assert refreshed(transfer).status == Status.CANCELLED
    assert receiver.post(f"{BASE}{transfer.pk}/accept/").status_code == 302
    assert refreshed(transfer).status == Status.CANCELLED  # closed: nothing more to do


# Expiry and its flag.


def flagged(organization) -> set[int]:
    ctx = FlagContext(Organization.objects.within(organization), RuleBook(), timezone.localdate())
    return set(FLAGS["transfer_expired"].queryset(ctx).values_list("pk", flat=True))


def test_an_expired_transfer_cannot_be_accepted_and_raises_the_flag(
    district, transfer, member, sender, receiver
):
    other = services.create_member(
        sender.user, member_data(district.branch_a, "王芳", id_number(sequence="124"))
    )
    issue(sender, other, to_organization=district.organ_branch.pk)
    fresh = Transfer.objects.get(member=other)
    assert flagged(district.root) == set()
    expire(transfer)

    response = receiver.post(f"{BASE}{transfer.pk}/accept/", follow=True)
    assert "介绍信已过有效期，请退回后由转出方重新开具" in response.content.decode()
    assert refreshed(transfer).status == Status.ISSUED
    assert refreshed(member).organization == district.branch_a

    # Flagged for both sides, with the rule's citation; the fresh one is not.
    assert flagged(district.root) == {transfer.pk}
    assert flagged(district.branch_a) == {transfer.pk}
    assert flagged(district.organ_branch) == {transfer.pk}
    assert flagged(district.branch_b) == set()
    assert fresh.pk not in flagged(district.root)
    flag = FLAGS["transfer_expired"]
    assert flag.citation == transfers.VALIDITY_DAYS.citation
    ctx = FlagContext(Organization.objects.within(district.root), RuleBook(), timezone.localdate())
    hit = flag.hits(ctx)[0]
    assert hit.organization == district.branch_a
    assert transfer.letter_number in hit.detail
    page = receiver.get(f"/flags/transfer_expired/{district.organ_branch.pk}/").content.decode()
    assert transfer.letter_number in page and "有效期一般不超过3个月" in page
    # The receiver returns it, and the flag goes away.
    receiver.post(f"{BASE}{transfer.pk}/return/", {"return_reason": "已过有效期"})
    assert flagged(district.root) == set()


def test_the_validity_follows_the_configurable_rule(district, sender, member):
    RuleOverride.objects.create(root=district.root, key="transfer.validity_days", value=30)
    too_long = (timezone.localdate() + timedelta(days=31)).isoformat()
    response = issue(sender, member, to_organization=district.organ_branch.pk, valid_until=too_long)
    assert response.status_code == 200
    assert "有效期不能超过30天" in response.content.decode()
    issue(sender, member, to_organization=district.organ_branch.pk)
    transfer = Transfer.objects.get(member=member)
    assert transfer.valid_until == transfer.issued_on + timedelta(days=30)


# The rules of issuing.


def test_only_one_open_transfer_per_member(district, transfer, member, sender):
    response = issue(sender, member, to_outside="中共某市某区某某党支部")
    assert response.status_code == 200
    assert "已有一份待接收的组织关系介绍信" in response.content.decode()
    assert Transfer.objects.filter(member=member).count() == 1


def test_the_destination_is_exactly_one_and_not_the_own_organization(district, sender, member):
    both = issue(sender, member, to_organization=district.organ_branch.pk, to_outside="某党支部")
    neither = issue(sender, member)
    own = issue(sender, member, to_organization=district.branch_a.pk)
    group = issue(sender, member, to_organization=district.group_a.pk)
    for response in (both, neither, own, group):
        assert response.status_code == 200
    assert "二选一" in both.content.decode() and "二选一" in neither.content.decode()
    assert "接收党组织不能是该党员现所在的党组织" in own.content.decode()
    assert "请从搜索结果中选择接收党组织" in group.content.decode()
    assert not Transfer.objects.exists()


def test_only_a_manager_of_the_members_organization_issues(district, member, stranger, receiver):
    assert issue(stranger, member, to_organization=district.organ_branch.pk).status_code == 404
    assert receiver.get(f"{BASE}new/?member={member.pk}").status_code == 404
    assert not Transfer.objects.exists()


def test_the_destination_search_covers_the_whole_tree_and_shows_names_only(
    district, sender, stranger, member
):
    url = f"{BASE}new/destinations/?member={member.pk}&field=id_to_organization&q="
    page = sender.get(url + "党支部").content.decode()
    assert "区财政局机关党支部" in page  # outside the sender's scope, still a destination
    assert "和平社区第二网格党支部" in page
    assert "和平社区第一网格党支部" not in page  # the member's own branch
    assert "badge" not in page and "党支部</span>" not in page
    assert "1号楼党小组" not in sender.get(url + "党小组").content.decode()
    assert stranger.get(url + "党支部").status_code == 404


# Outside the system.


def test_to_outside_the_system_the_sender_completes_and_the_member_leaves_the_roster(
    district, sender, member
):
    response = issue(sender, member, to_outside="中共某省某市某局机关党支部")
    assert response.status_code == 302
    transfer = Transfer.objects.get(member=member)
    assert transfer.to_organization is None
    letter = sender.get(f"{BASE}{transfer.pk}/letter/").content.decode()
    assert "中共某省某市某局机关党支部" in letter and "回执" in letter
    assert sender.post(f"{BASE}{transfer.pk}/accept/").status_code == 302  # nobody accepts it
    assert refreshed(transfer).status == Status.ISSUED

    sender.post(f"{BASE}{transfer.pk}/complete/")
    left = refreshed(member)
    assert refreshed(transfer).status == Status.ACCEPTED
    assert left.standing == Standing.TRANSFERRED_OUT
    assert left.organization == district.branch_a  # kept on record
    assert not Member.objects.on_roster().filter(pk=member.pk).exists()
    assert events(member).filter(action=AuditAction.UPDATE).exists()


def incoming_data(district, **fields):
    return {
        "to_organization": district.organ_branch.pk,
        "from_outside": "中共某省某市某县委组织部",
        "letter_number": "外字第018号",
        "incoming_name": "赵敏",
        "incoming_id_number": id_number("19900215", "246"),
        "reason": "工作调动",
        "dues_paid_until": "2026-09",
        "issued_on": timezone.localdate().isoformat(),
        **fields,
    }


def test_from_outside_the_system_the_member_is_created_on_acceptance(district, receiver, sender):
    response = receiver.post(f"{BASE}incoming/new/", incoming_data(district))
    assert response.status_code == 302, response.content.decode()[:2000]
    transfer = Transfer.objects.get(incoming_name="赵敏")
    assert transfer.member is None and transfer.status == Status.ISSUED
    assert not Member.objects.filter(name="赵敏").exists()
    assert receiver.get(f"{BASE}?tab=in").content.decode().count("赵敏") == 1
    assert sender.get(f"{BASE}{transfer.pk}/").status_code == 404  # neither side is theirs
    assert events(transfer).get().after["incoming_id_number"].startswith("110105**")

    form = receiver.get(f"{BASE}{transfer.pk}/accept/")
    assert form.status_code == 200 and "1990-02-15" in form.content.decode()
    bad = receiver.post(
        f"{BASE}{transfer.pk}/accept/",
        {"gender": "female", "ethnicity": "汉族", "birth_date": "1990-02-15",
         "education": "bachelor", "occupation": "worker", "joined_on": "2005-01-01",
         "membership": "full", "category": "resident"},
    )  # fmt: skip
    assert "入党时未满十八周岁" in bad.content.decode()
    assert refreshed(transfer).status == Status.ISSUED

    receiver.post(
        f"{BASE}{transfer.pk}/accept/",
        {"gender": "female", "ethnicity": "汉族", "birth_date": "1990-02-15",
         "education": "bachelor", "occupation": "worker", "joined_on": "2015-07-01",
         "full_member_on": "2016-07-01", "membership": "full", "category": "resident"},
    )  # fmt: skip
    accepted = refreshed(transfer)
    assert accepted.status == Status.ACCEPTED
    member = accepted.member
    assert member.organization == district.organ_branch
    assert member.id_number == id_number("19900215", "246")
    assert events(member).filter(action=AuditAction.CREATE).exists()
    receipt = receiver.get(f"{BASE}{transfer.pk}/receipt/").content.decode()
    assert "赵敏" in receipt and "外字第018号" in receipt and "中共某省某市某县委组织部" in receipt


def test_an_incoming_record_refuses_a_number_already_on_a_roster(district, receiver, member):
    response = receiver.post(
        f"{BASE}incoming/new/", incoming_data(district, incoming_id_number=member.id_number)
    )
    assert response.status_code == 200
    assert "该身份证号在系统内已有党员记录" in response.content.decode()
    bad = receiver.post(f"{BASE}incoming/new/", incoming_data(district, incoming_id_number="1"))
    assert "身份证号应为18位" in bad.content.decode()
    assert not Transfer.objects.exists()


def test_a_member_who_left_the_system_comes_back_on_the_same_record(
    district, sender, receiver, member
):
    issue(sender, member, to_outside="中共某省某市某局机关党支部")
    sender.post(f"{BASE}{Transfer.objects.get(member=member).pk}/complete/")
    receiver.post(
        f"{BASE}incoming/new/",
        incoming_data(district, incoming_name=member.name, incoming_id_number=member.id_number),
    )
    back = Transfer.objects.get(member=None)
    receiver.post(
        f"{BASE}{back.pk}/accept/",
        {"gender": member.gender, "ethnicity": "汉族", "birth_date": "1985-03-12",
         "education": "bachelor", "occupation": "worker", "joined_on": "2010-07-01",
         "full_member_on": "2011-07-01", "membership": "full", "category": "resident"},
    )  # fmt: skip
    again = refreshed(member)
    assert refreshed(back).member == again
    assert again.standing == Standing.NORMAL
    assert again.organization == district.organ_branch
    assert Member.objects.count() == 1


# The letter and the receipt.


def test_the_letter_shows_the_full_number_only_to_those_allowed_and_audits_it(
    district, transfer, member, sender, receiver
):
    page = sender.get(f"{BASE}{transfer.pk}/letter/")
    assert page.status_code == 200
    text = page.content.decode()
    assert transfer.letter_number in text and member.name in text
    assert member.id_number in text and "@media print" in text
    assert "2026年10月" in text  # dues paid up to
    reveal = events(member).get(action=AuditAction.READ)
    assert reveal.actor == sender.user and transfer.letter_number in reveal.reason

    # The receiving clerk may see the letter but, before acceptance, not the full number.
    masked = receiver.get(f"{BASE}{transfer.pk}/letter/").content.decode()
    assert transfer.letter_number in masked
    assert member.id_number not in masked and member.masked_id_number in masked
    assert events(member).filter(action=AuditAction.READ).count() == 1


def test_the_receipt_is_printed_after_acceptance(transfer, member, sender, receiver):
    assert receiver.get(f"{BASE}{transfer.pk}/receipt/").status_code == 404
    receiver.post(f"{BASE}{transfer.pk}/accept/")
    for client in (receiver, sender):
        page = client.get(f"{BASE}{transfer.pk}/receipt/")
        assert page.status_code == 200
        text = page.content.decode()
        assert transfer.letter_number in text and member.name in text
        assert "特此回执" in text


def test_the_list_filters_by_side_and_status(district, transfer, sender, receiver):
    assert transfer.letter_number in sender.get(f"{BASE}?tab=out").content.decode()
    assert transfer.letter_number not in sender.get(f"{BASE}?tab=in").content.decode()
    assert transfer.letter_number not in receiver.get(f"{BASE}?tab=out").content.decode()
    assert transfer.letter_number not in sender.get(f"{BASE}?status=accepted").content.decode()
    assert transfer.letter_number not in sender.get(f"{BASE}?status=expired").content.decode()
    expire(transfer)
    assert transfer.letter_number in sender.get(f"{BASE}?status=expired").content.decode()


def test_a_member_without_roster_rights_sees_no_transfers(district, transfer, login):
    plain = login(Role.MEMBER, district.branch_a)
    assert plain.get(BASE).status_code == 403
    assert plain.get(f"{BASE}{transfer.pk}/").status_code == 404


def test_an_organization_with_an_open_transfer_cannot_be_dissolved(district, transfer):
    assert any(
        "未办结的组织关系转接" in reason for reason in dissolve_blockers(district.organ_branch)
    )


def test_a_returned_letter_is_not_printed_again(transfer, sender, receiver):
    assert sender.get(f"{BASE}{transfer.pk}/letter/").status_code == 200
    receiver.post(f"{BASE}{transfer.pk}/return/", {"return_reason": "材料不全"})
    assert sender.get(f"{BASE}{transfer.pk}/letter/").status_code == 403
