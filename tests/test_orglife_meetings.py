"""Meeting records through their pages: who is expected, attendance and its corrections,
sign-in on the phone, attachments, 民主评议党员, scope, and forms that keep what was typed."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from dangjian.accounts.roles import Role
from dangjian.audit.models import AuditEvent
from dangjian.members.models import Member
from dangjian.organizations.models import CommitteeMember, CommitteePost
from dangjian.orglife import services
from dangjian.orglife.choices import AppraisalStage, MeetingKind, MeetingStatus, Presence
from dangjian.orglife.models import Attachment, Attendance, Meeting
from dangjian.orglife.views_meetings import qr_svg

from .factories import make_member

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def today() -> date:
    return timezone.localdate()


@pytest.fixture
def branch(district):
    """第一网格党支部 with four members on the roster, one who joined later, one gone."""
    org = district.branch_a
    people = {
        "张书记": make_member(org, "张书记"),
        "李委员": make_member(org, "李委员"),
        "王党员": make_member(org, "王党员", party_group=district.group_a),
        "赵党员": make_member(org, "赵党员", party_group=district.group_a),
        "新党员": make_member(org, "新党员", joined_on=today() - timedelta(days=5)),
        "转出党员": make_member(org, "转出党员", standing="transferred_out"),
    }
    return people


@pytest.fixture
def clerk(district, login):
    return login(Role.CLERK, district.branch_a)


def post_meeting(client, org, kind, **fields):
    data = {
        "status": MeetingStatus.HELD,
        "date": (today() - timedelta(days=10)).isoformat(),
        "place": "党员活动室",
        "topic": "学习党的二十届三中全会精神",
        "minutes": "会议记录内容",
        "resolutions": "",
        **{k: (v.pk if isinstance(v, Member) else v) for k, v in fields.items()},
    }
    data = {k: v for k, v in data.items() if v is not None}
    return client.post(f"/life/org/{org.pk}/meetings/new/?kind={kind}", data)


def created(response) -> Meeting:
    assert response.status_code == 302, response.content.decode()[:3000]
    return Meeting.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-1]))


def names(meeting: Meeting) -> list[str]:
    return sorted(meeting.attendance.values_list("name", flat=True))


# ---- who is expected ----


def test_a_branch_meeting_expects_the_members_on_the_roster_who_had_joined(district, branch, clerk):
    make_member(district.branch_b, "别的支部党员")
    meeting = created(post_meeting(clerk, district.branch_a, MeetingKind.GENERAL_MEETING))
    assert names(meeting) == sorted(["张书记", "李委员", "王党员", "赵党员"])
    assert meeting.expected_count == 4 and meeting.present_count == 0
    assert meeting.organization == district.branch_a


def test_a_committee_meeting_expects_the_current_committee(district, branch, clerk):
    org = district.branch_a
    CommitteeMember.objects.create(organization=org, post=CommitteePost.ORGANIZATION, name="李委员")
    # A part-time member from a stationed unit, on no roster here.
    CommitteeMember.objects.create(organization=org, post=CommitteePost.MEMBER, name="驻区委员")
    CommitteeMember.objects.create(
        organization=org,
        post=CommitteePost.PROPAGANDA,
        name="王党员",
        ended_on=today() - timedelta(days=30),
    )
    meeting = created(post_meeting(clerk, org, MeetingKind.COMMITTEE_MEETING))
    assert names(meeting) == sorted(["张书记", "李委员", "驻区委员"])
    rows = {a.name: a for a in meeting.attendance.all()}
    assert rows["张书记"].member == branch["张书记"]
    assert rows["驻区委员"].member is None

    page = clerk.get(meeting.get_absolute_url()).content.decode()
    assert "到会人数未超过应到的50%，不计入支委会要求" in page
    marks = {
        f"presence-{rows['张书记'].pk}": "present",
        f"presence-{rows['李委员'].pk}": "present",
        f"presence-{rows['驻区委员'].pk}": "absent",
        f"reason-{rows['驻区委员'].pk}": "出差",
    }
    clerk.post(f"/life/meetings/{meeting.pk}/attendance/", marks)
    meeting.refresh_from_db()
    assert meeting.has_quorum
    assert "到会人数超过应到的50%" in clerk.get(meeting.get_absolute_url()).content.decode()


def test_a_group_meeting_expects_the_group(district, branch, clerk):
    meeting = created(
        post_meeting(clerk, district.group_a, MeetingKind.GROUP_MEETING, host=branch["王党员"])
    )
    assert names(meeting) == ["王党员", "赵党员"]
    assert meeting.organization == district.group_a


def test_a_talk_is_between_two_people_who_were_both_there(district, branch, clerk):
    meeting = created(
        post_meeting(
            clerk,
            district.branch_a,
            MeetingKind.TALK,
            host=branch["张书记"],
            counterpart=branch["赵党员"],
        )
    )
    assert names(meeting) == ["张书记", "赵党员"]
    assert set(meeting.attendance.values_list("presence", flat=True)) == {Presence.PRESENT}
    assert Member.objects.get(pk=branch["赵党员"].pk).last_participated_on == meeting.date

    # Correcting who was talked with moves the attendance along.
    response = clerk.post(
        f"/life/meetings/{meeting.pk}/edit/",
        {
            "status": "held",
            "date": meeting.date.isoformat(),
            "topic": meeting.topic,
            "host": branch["张书记"].pk,
            "counterpart": branch["王党员"].pk,
            "version": meeting.version,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert names(meeting) == ["张书记", "王党员"]
    assert Member.objects.get(pk=branch["赵党员"].pk).last_participated_on is None


def test_a_talk_needs_somebody_to_talk_with(district, branch, clerk):
    response = post_meeting(clerk, district.branch_a, MeetingKind.TALK, host=branch["张书记"])
    assert response.status_code == 200
    assert "这个字段是必填项" in response.content.decode() or "必填" in response.content.decode()
    assert not Meeting.objects.exists()


def test_the_kind_is_picked_first_and_a_group_meeting_belongs_to_a_group(district, clerk):
    page = clerk.get(f"/life/org/{district.branch_a.pk}/meetings/new/").content.decode()
    assert "支委会" in page and "?kind=committee_meeting" in page
    assert "?kind=group_meeting" not in page
    # A branch cannot record a 党小组会 by typing the kind into the address.
    page = clerk.get(f"/life/org/{district.branch_a.pk}/meetings/new/?kind=group_meeting")
    assert "?kind=talk" in page.content.decode()


# ---- forms keep what was typed ----


def test_a_refused_save_keeps_what_was_typed(district, branch, clerk):
    response = post_meeting(
        clerk,
        district.branch_a,
        MeetingKind.GENERAL_MEETING,
        topic="一个还没开的会议主题",
        date=(today() + timedelta(days=3)).isoformat(),
        place="社区三楼会议室",
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "尚未到来的日期只能登记为“计划召开”" in page
    assert "一个还没开的会议主题" in page and "社区三楼会议室" in page
    assert not Meeting.objects.exists()


def test_a_stale_edit_shows_what_changed_and_keeps_the_typing(district, branch, clerk, login):
    other = login(Role.SECRETARY, district.branch_a)
    meeting = created(post_meeting(clerk, district.branch_a, MeetingKind.LECTURE))
    form = {
        "status": "held",
        "date": meeting.date.isoformat(),
        "topic": meeting.topic,
        "place": "活动室",
        "version": meeting.version,
    }
    assert clerk.post(f"/life/meetings/{meeting.pk}/edit/", form).status_code == 302
    response = other.post(f"/life/meetings/{meeting.pk}/edit/", {**form, "place": "会议室乙"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "保存前已有其他人修改了这条记录" in page and "会议室乙" in page
    meeting.refresh_from_db()
    assert meeting.place == "活动室"


def test_deleting_needs_a_reason(district, branch, clerk):
    meeting = created(post_meeting(clerk, district.branch_a, MeetingKind.THEME_DAY))
    response = clerk.post(f"/life/meetings/{meeting.pk}/delete/", {"reason": " "})
    assert response.status_code == 200 and Meeting.objects.filter(pk=meeting.pk).exists()
    response = clerk.post(f"/life/meetings/{meeting.pk}/delete/", {"reason": "重复登记"})
    assert response.status_code == 302
    assert not Meeting.objects.filter(pk=meeting.pk).exists()
    assert AuditEvent.objects.filter(action="delete", reason="重复登记").exists()


# ---- attendance ----


def rows_of(meeting):
    return {a.name: a for a in meeting.attendance.all()}


def test_attendance_is_marked_and_leave_or_absence_needs_a_reason(district, branch, clerk):
    meeting = created(post_meeting(clerk, district.branch_a, MeetingKind.GENERAL_MEETING))
    rows = rows_of(meeting)
    url = f"/life/meetings/{meeting.pk}/attendance/"
    response = clerk.post(
        url,
        {
            f"presence-{rows['张书记'].pk}": "present",
            f"presence-{rows['李委员'].pk}": "leave",
            f"leave-{rows['李委员'].pk}": "on",
            f"reason-{rows['李委员'].pk}": "",
        },
        HTTP_HX_REQUEST="true",
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "李委员：请假或缺席须注明原因。" in page
    assert 'id="attendance-form"' in page and "<html" not in page
    assert rows_of(meeting)["张书记"].presence == Presence.UNMARKED  # nothing saved

    response = clerk.post(
        url,
        {
            f"presence-{rows['张书记'].pk}": "present",
            f"presence-{rows['李委员'].pk}": "leave",
            f"leave-{rows['李委员'].pk}": "on",
            f"reason-{rows['李委员'].pk}": "住院",
            f"presence-{rows['王党员'].pk}": "absent",
            f"reason-{rows['王党员'].pk}": "未请假",
        },
        HTTP_HX_REQUEST="true",
    )
    assert "已保存出席情况" in response.content.decode()
    rows = rows_of(meeting)
    assert rows["张书记"].presence == Presence.PRESENT
    assert (rows["李委员"].presence, rows["李委员"].leave_approved, rows["李委员"].reason) == (
        Presence.LEAVE,
        True,
        "住院",
    )
    assert (rows["王党员"].presence, rows["王党员"].leave_approved) == (Presence.ABSENT, False)
    meeting.refresh_from_db()
    assert (meeting.expected_count, meeting.present_count) == (4, 1)
    assert Member.objects.get(pk=branch["张书记"].pk).last_participated_on == meeting.date


def open_today(clerk, district, **fields) -> Meeting:
    meeting = created(
        post_meeting(
            clerk,
            district.branch_a,
            MeetingKind.THEME_DAY,
            date=today().isoformat(),
            **fields,
        )
    )
    response = clerk.post(f"/life/meetings/{meeting.pk}/checkin/open/", {"minutes": 30})
    assert response.status_code == 302, response.content.decode()[:2000]
    meeting.refresh_from_db()
    return meeting


def as_member(login, district, member, role=Role.MEMBER):
    client = login(role, district.branch_a)
    member.user = client.user
    member.save(update_fields=["user"])
    return client


def test_correcting_a_self_sign_in_needs_a_reason_and_is_audited(district, branch, clerk, login):
    meeting = open_today(clerk, district)
    phone = as_member(login, district, branch["王党员"])
    assert phone.post("/life/checkin/", {"code": meeting.checkin_code}).status_code == 302
    row = rows_of(meeting)["王党员"]
    assert row.checked_in_at is not None

    url = f"/life/meetings/{meeting.pk}/attendance/"
    mark = {f"presence-{row.pk}": "absent", f"reason-{row.pk}": "签到后即离开"}
    response = clerk.post(url, mark)
    assert "更正已签到或已召开会议的出席记录须说明更正原因" in response.content.decode()
    assert rows_of(meeting)["王党员"].presence == Presence.PRESENT

    response = clerk.post(url, {**mark, "correction_reason": "代签，经核实本人未到会"})
    assert response.status_code == 302
    assert rows_of(meeting)["王党员"].presence == Presence.ABSENT
    event = AuditEvent.objects.filter(
        object_type="orglife.attendance", object_id=str(row.pk), action="update"
    ).latest("id")
    assert event.reason == "代签，经核实本人未到会"
    assert event.before["presence"] == "present" and event.after["presence"] == "absent"


def test_attendees_are_added_and_removed_with_a_reason(district, branch, clerk):
    meeting = created(post_meeting(clerk, district.branch_a, MeetingKind.GENERAL_MEETING))
    newcomer = branch["新党员"]
    url = f"/life/meetings/{meeting.pk}/attendees/add/"
    response = clerk.post(url, {"member": newcomer.pk, "reason": ""})
    assert response.status_code == 200 and "新党员" in response.content.decode()
    assert clerk.post(url, {"member": newcomer.pk, "reason": "转入后补记"}).status_code == 302
    assert "新党员" in names(meeting)

    row = rows_of(meeting)["新党员"]
    url = f"/life/meetings/{meeting.pk}/attendees/remove/"
    assert clerk.post(url, {"attendance": row.pk, "reason": ""}).status_code == 200
    assert clerk.post(url, {"attendance": row.pk, "reason": "误加"}).status_code == 302
    assert "新党员" not in names(meeting)
    assert AuditEvent.objects.filter(object_type="orglife.attendance", reason="误加").exists()


# ---- sign-in on the phone ----


def test_signing_in_within_the_window(district, branch, clerk, login):
    meeting = open_today(clerk, district)
    assert len(meeting.checkin_code) == 6
    page = clerk.get(meeting.get_absolute_url()).content.decode()
    assert meeting.checkin_code in page and "<svg" in page
    # The QR holds the sign-in page's address with the code.
    qr = qr_svg(f"http://testserver/life/checkin/?code={meeting.checkin_code}")
    assert str(qr) in page

    phone = as_member(login, district, branch["赵党员"])
    form = phone.get(f"/life/checkin/?code={meeting.checkin_code}").content.decode()
    assert f'value="{meeting.checkin_code}"' in form
    response = phone.post("/life/checkin/", {"code": meeting.checkin_code}, follow=True)
    page = response.content.decode()
    assert "签到成功" in page and meeting.topic in page
    row = rows_of(meeting)["赵党员"]
    assert row.presence == Presence.PRESENT and row.checked_in_at is not None
    meeting.refresh_from_db()
    assert meeting.present_count == 1
    assert Member.objects.get(pk=branch["赵党员"].pk).last_participated_on == today()
    # Only the member themself sees their confirmation.
    assert clerk.get(f"/life/checkin/done/{row.pk}/").status_code == 404


def test_sign_in_is_refused_after_closing_with_a_wrong_code_or_when_not_expected(
    district, branch, clerk, login
):
    meeting = open_today(clerk, district)
    code = meeting.checkin_code
    phone = as_member(login, district, branch["王党员"])

    wrong = "000000" if code != "000000" else "111111"
    assert (
        "签到码无效或签到已结束" in phone.post("/life/checkin/", {"code": wrong}).content.decode()
    )

    outsider = make_member(district.branch_b, "外支部党员")
    other_phone = as_member(login, district, outsider)
    page = other_phone.post("/life/checkin/", {"code": code}).content.decode()
    assert "您不在本次会议的应到名单中" in page

    no_record = login(Role.MEMBER, district.branch_a)
    page = no_record.post("/life/checkin/", {"code": code}).content.decode()
    assert "您的账号没有关联党员信息" in page

    assert clerk.post(f"/life/meetings/{meeting.pk}/checkin/close/").status_code == 302
    page = phone.post("/life/checkin/", {"code": code}).content.decode()
    assert "签到码无效或签到已结束" in page
    assert rows_of(meeting)["王党员"].presence == Presence.UNMARKED


def test_the_window_ends_by_itself(district, branch, clerk, login):
    meeting = open_today(clerk, district)
    user = as_member(login, district, branch["王党员"]).user
    later = meeting.checkin_closes_at + timedelta(seconds=1)
    with pytest.raises(services.CheckinError):
        services.check_in(user, meeting.checkin_code, now=later)
    row = services.check_in(
        user, meeting.checkin_code, now=meeting.checkin_closes_at - timedelta(seconds=1)
    )
    assert row.presence == Presence.PRESENT


def test_sign_in_opens_only_on_the_meetings_day(district, branch, clerk):
    planned = created(
        post_meeting(
            clerk,
            district.branch_a,
            MeetingKind.THEME_DAY,
            status=MeetingStatus.PLANNED,
            date=(today() + timedelta(days=7)).isoformat(),
        )
    )
    page = clerk.get(planned.get_absolute_url()).content.decode()
    assert "会议当天可在此开放签到" in page
    meeting = created(post_meeting(clerk, district.branch_a, MeetingKind.THEME_DAY))
    assert "现场签到" not in clerk.get(meeting.get_absolute_url()).content.decode()
    response = clerk.post(f"/life/meetings/{meeting.pk}/checkin/open/", {"minutes": 30})
    assert "只能在会议当天开放签到" in response.content.decode()


def test_my_organizational_life(district, branch, clerk, login):
    meeting = open_today(clerk, district)
    phone = as_member(login, district, branch["王党员"])
    phone.post("/life/checkin/", {"code": meeting.checkin_code})
    page = phone.get("/life/my/").content.decode()
    assert meeting.topic in page and "出席" in page
    assert today().isoformat() in page  # the last time they took part
    page = login(Role.MEMBER, district.branch_a).get("/life/my/").content.decode()
    assert "您的账号没有关联党员信息" in page


# ---- attachments ----


def upload(client, meeting, name, content):
    return client.post(
        f"/life/meetings/{meeting.pk}/attachments/",
        {"file": SimpleUploadedFile(name, content, content_type="application/pdf")},
    )


def test_an_attachment_is_kept_privately_and_downloaded_in_scope(district, branch, clerk, login):
    meeting = created(post_meeting(clerk, district.branch_a, MeetingKind.GENERAL_MEETING))
    assert upload(clerk, meeting, "会议纪要.pdf", PDF).status_code == 302
    attachment = Attachment.objects.get(meeting=meeting)
    assert attachment.original_name == "会议纪要.pdf" and attachment.size == len(PDF)
    assert "会议纪要" not in attachment.file.name  # stored under a random name

    page = clerk.get(meeting.get_absolute_url()).content.decode()
    assert f"/life/attachments/{attachment.pk}/" in page and "/media/" not in page
    response = clerk.get(f"/life/attachments/{attachment.pk}/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Disposition"].startswith("attachment;")
    assert "%E4%BC%9A%E8%AE%AE%E7%BA%AA%E8%A6%81.pdf" in response["Content-Disposition"]
    assert response["Content-Type"] == "application/pdf"

    # An expected member may read it; a clerk elsewhere may not even learn it exists.
    member = as_member(login, district, branch["王党员"])
    assert member.get(f"/life/attachments/{attachment.pk}/").status_code == 200
    outsider = login(Role.CLERK, district.branch_b)
    assert outsider.get(f"/life/attachments/{attachment.pk}/").status_code == 404
    assert outsider.post(f"/life/attachments/{attachment.pk}/delete/").status_code == 404
    assert member.post(f"/life/attachments/{attachment.pk}/delete/").status_code == 403

    assert clerk.post(f"/life/attachments/{attachment.pk}/delete/").status_code == 302
    assert not Attachment.objects.exists()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("setup.exe", b"MZ\x90\x00", "不支持的附件类型“.exe”"),
        ("纪要.pdf", b"<html>not a pdf</html>", "内容与扩展名不符"),
        ("大文件.pdf", b"%PDF" + b"0" * (11 * 1024 * 1024), "超过 10 MB"),
    ],
)
def test_attachments_are_limited_in_type_and_size(district, branch, clerk, name, content, message):
    meeting = created(post_meeting(clerk, district.branch_a, MeetingKind.GENERAL_MEETING))
    response = upload(clerk, meeting, name, content)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Attachment.objects.exists()


# ---- 民主评议党员 ----


def test_an_appraisal_advances_only_when_each_stage_is_complete(district, branch, clerk):
    meeting = created(post_meeting(clerk, district.branch_a, MeetingKind.APPRAISAL, status=None))
    assert meeting.status == MeetingStatus.PLANNED
    assert meeting.appraisal_stage == AppraisalStage.SELF
    results = {r.member.name: r for r in meeting.appraisals.select_related("member")}
    assert sorted(results) == sorted(["张书记", "李委员", "王党员", "赵党员"])
    advance = f"/life/meetings/{meeting.pk}/appraisal/advance/"

    def save(name, **fields):
        result = results[name]
        data = {f"r{result.pk}-{k}": v for k, v in fields.items()}
        return clerk.post(
            f"/life/meetings/{meeting.pk}/appraisal/{result.pk}/", data, HTTP_HX_REQUEST="true"
        )

    page = clerk.get(meeting.get_absolute_url()).content.decode()
    assert "进入下一阶段" in page and "个人自评" in page

    response = save("张书记", self_summary="认真履行书记职责")
    assert "已保存" in response.content.decode()
    page = clerk.post(advance, follow=True).content.decode()
    assert "以下党员尚未完成个人自评" in page and "李委员" in page
    meeting.refresh_from_db()
    assert meeting.appraisal_stage == AppraisalStage.SELF

    for name in ("李委员", "王党员", "赵党员"):
        save(name, self_summary=f"{name}的自评")
    clerk.post(advance)
    meeting.refresh_from_db()
    assert meeting.appraisal_stage == AppraisalStage.MUTUAL

    for name in results:
        save(name, mutual_comments=f"对{name}的互评意见")
    clerk.post(advance)
    meeting.refresh_from_db()
    assert meeting.appraisal_stage == AppraisalStage.VOTE

    votes = {"votes_excellent": 3, "votes_qualified": 1, "votes_basic": 0, "votes_unqualified": 0}
    for name in ("张书记", "李委员", "王党员"):
        save(name, grade="excellent", **votes)
    page = clerk.post(advance, follow=True).content.decode()
    assert "以下党员尚未确定评议结果" in page and "赵党员" in page
    save("赵党员", grade="qualified", **votes)
    page = clerk.post(advance, follow=True).content.decode()
    meeting.refresh_from_db()
    assert meeting.appraisal_stage == AppraisalStage.DONE
    assert meeting.status == MeetingStatus.HELD
    assert "评议完成" in page and "进入下一阶段" not in page
    assert results["赵党员"].__class__.objects.get(pk=results["赵党员"].pk).grade == "qualified"


def test_a_member_added_to_an_appraisal_is_appraised_too(district, branch, clerk):
    meeting = created(post_meeting(clerk, district.branch_a, MeetingKind.APPRAISAL, status=None))
    clerk.post(
        f"/life/meetings/{meeting.pk}/attendees/add/",
        {"member": branch["新党员"].pk, "reason": "转入后补记"},
    )
    assert meeting.appraisals.filter(member=branch["新党员"]).exists()
    row = rows_of(meeting)["新党员"]
    clerk.post(
        f"/life/meetings/{meeting.pk}/attendees/remove/", {"attendance": row.pk, "reason": "误加"}
    )
    assert not meeting.appraisals.filter(member=branch["新党员"]).exists()


# ---- scope ----


def test_a_clerk_of_another_branch_gets_404(district, branch, clerk, login):
    meeting = created(post_meeting(clerk, district.branch_a, MeetingKind.GENERAL_MEETING))
    outsider = login(Role.CLERK, district.branch_b)
    for url in (
        f"/life/org/{district.branch_a.pk}/meetings/",
        f"/life/org/{district.branch_a.pk}/meetings/new/",
        f"/life/meetings/{meeting.pk}/",
        f"/life/meetings/{meeting.pk}/edit/",
        f"/life/meetings/{meeting.pk}/delete/",
        f"/life/meetings/{meeting.pk}/checkin/",
    ):
        assert outsider.get(url).status_code == 404, url
    for url in (
        f"/life/meetings/{meeting.pk}/attendance/",
        f"/life/meetings/{meeting.pk}/checkin/open/",
        f"/life/meetings/{meeting.pk}/attachments/",
    ):
        assert outsider.post(url).status_code == 404, url
    # The street above sees it.
    above = login(Role.CLERK, district.street)
    assert above.get(f"/life/meetings/{meeting.pk}/").status_code == 200
    listing = above.get(f"/life/org/{district.community.pk}/meetings/").content.decode()
    assert meeting.topic in listing


def test_a_member_sees_only_the_meetings_they_were_expected_at(district, branch, clerk, login):
    org = district.branch_a
    general = created(post_meeting(clerk, org, MeetingKind.GENERAL_MEETING))
    committee = created(post_meeting(clerk, org, MeetingKind.COMMITTEE_MEETING))
    rows = rows_of(general)
    clerk.post(
        f"/life/meetings/{general.pk}/attendance/",
        {f"presence-{rows['李委员'].pk}": "leave", f"reason-{rows['李委员'].pk}": "家中有事"},
    )
    member = as_member(login, district, branch["王党员"])
    page = member.get(f"/life/meetings/{general.pk}/").content.decode()
    assert general.topic in page
    assert "家中有事" not in page  # others' reasons are not shown to members
    assert "保存出席情况" not in page
    assert member.get(f"/life/meetings/{committee.pk}/").status_code == 404
    assert member.get(f"/life/org/{org.pk}/meetings/").status_code == 404
    assert member.post(f"/life/meetings/{general.pk}/attendance/").status_code == 403


def test_the_list_filters_by_kind_and_year_newest_first(district, branch, clerk, login):
    org = district.branch_a
    older = created(
        post_meeting(
            clerk,
            org,
            MeetingKind.LECTURE,
            topic="去年的党课",
            date=date(today().year - 1, 6, 1).isoformat(),
        )
    )
    newer = created(post_meeting(clerk, org, MeetingKind.LECTURE, topic="今年的党课"))
    created(post_meeting(clerk, org, MeetingKind.THEME_DAY, topic="主题党日活动"))
    page = clerk.get(f"/life/org/{org.pk}/meetings/").content.decode()
    listing = page[page.index('class="meeting-list"') :]
    assert listing.index(newer.topic) < listing.index(older.topic)
    assert "登记会议" in page
    page = clerk.get(f"/life/org/{org.pk}/meetings/?kind=lecture").content.decode()
    assert "主题党日活动" not in page and older.topic in page
    page = clerk.get(
        f"/life/org/{org.pk}/meetings/?kind=lecture&year={today().year - 1}"
    ).content.decode()
    assert older.topic in page and newer.topic not in page
    # Another branch's secretary does not see this list at all.
    viewer = login(Role.SECRETARY, district.branch_b)
    assert viewer.get(f"/life/org/{org.pk}/meetings/").status_code == 404


def test_the_list_is_paged(district, branch, clerk):
    org = district.branch_a
    user = clerk.user
    for n in range(32):
        services.create_meeting(
            user,
            org,
            {
                "kind": MeetingKind.THEME_DAY,
                "date": today() - timedelta(days=n + 1),
                "topic": f"主题党日{n:02d}",
            },
        )
    page = clerk.get(f"/life/org/{org.pk}/meetings/").content.decode()
    assert "主题党日00" in page and "主题党日31" not in page and "下一页" in page
    page = clerk.get(f"/life/org/{org.pk}/meetings/?page=2").content.decode()
    assert "主题党日31" in page


# ---- the member's 党小组 ----


def member_form(client, member, **changes):
    from dangjian.members.forms import MemberEditForm

    form = MemberEditForm(instance=member, initial={"version": member.version}, organizations=None)
    data = {}
    for name in form.fields:
        value = changes.get(name, form[name].value())
        if value not in (None, False):
            data[name] = str(value)
    return data


def test_a_clerk_puts_a_member_into_a_party_group(district, login):
    from .factories import make_org

    clerk = login(Role.CLERK, district.branch_a)
    member = make_member(district.branch_a, "钱党员")
    page = clerk.get(f"/members/{member.pk}/edit/").content.decode()
    assert "所在党小组" in page and "1号楼党小组" in page
    response = clerk.post(
        f"/members/{member.pk}/edit/", member_form(clerk, member, party_group=district.group_a.pk)
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    member.refresh_from_db()
    assert member.party_group == district.group_a

    # A group of another branch is not offered, and the service refuses it too.
    group_b = make_org(district.branch_b, "2号楼党小组", "group")
    response = clerk.post(
        f"/members/{member.pk}/edit/", member_form(clerk, member, party_group=group_b.pk)
    )
    assert response.status_code == 200 and "请选择本支部下设的党小组" in response.content.decode()
    from django.core.exceptions import ValidationError

    from dangjian.members import services as member_services

    with pytest.raises(ValidationError) as raised:
        member_services.update_member(clerk.user, member, {"party_group": group_b}, member.version)
    assert "party_group" in raised.value.message_dict


def test_attendance_rows_are_kept_when_a_member_leaves_the_branch(district, branch, clerk):
    """A record of the past is not rewritten by later roster changes."""
    meeting = created(post_meeting(clerk, district.branch_a, MeetingKind.GENERAL_MEETING))
    Member.objects.filter(pk=branch["赵党员"].pk).update(organization=district.branch_b)
    assert "赵党员" in names(meeting)
    assert Attendance.objects.filter(meeting=meeting).count() == 4


def test_guessing_codes_is_stopped_after_ten_wrong_tries_and_a_sign_in_is_audited(
    district, branch, clerk, login
):
    meeting = open_today(clerk, district)
    phone = as_member(login, district, branch["王党员"])
    wrong = [f"{n:06d}" for n in range(20) if f"{n:06d}" != meeting.checkin_code][:10]
    for code in wrong:
        assert "签到码无效" in phone.post("/life/checkin/", {"code": code}).content.decode()
    # The right code no longer helps once the member has used up their tries.
    page = phone.post("/life/checkin/", {"code": meeting.checkin_code}).content.decode()
    assert "输错次数过多" in page
    assert rows_of(meeting)["王党员"].presence == Presence.UNMARKED

    other = as_member(login, district, branch["赵党员"])
    other.post("/life/checkin/", {"code": meeting.checkin_code})
    row = rows_of(meeting)["赵党员"]
    assert AuditEvent.objects.filter(
        object_type="orglife.attendance", object_id=str(row.pk), reason="本人签到"
    ).exists()


def test_a_meeting_entered_afterwards_expects_the_roster_as_it_stood_that_day(district, clerk):
    from dangjian.members.models import Transfer

    arrived = make_member(district.branch_a, "后转入")
    left = make_member(district.branch_b, "后转出")
    for member, source, target in (
        (arrived, district.branch_b, district.branch_a),
        (left, district.branch_a, district.branch_b),
    ):
        Transfer.objects.create(
            member=member,
            from_organization=source,
            to_organization=target,
            reason="工作调动",
            dues_paid_until=date(2026, 2, 1),
            issued_on=date(2026, 3, 1),
            valid_until=date(2026, 6, 1),
            status=Transfer.Status.ACCEPTED,
            decided_on=date(2026, 3, 5),
            issued_by=clerk.user,
        )
    meeting = services.create_meeting(
        clerk.user,
        district.branch_a,
        {"kind": MeetingKind.THEME_DAY, "date": date(2026, 2, 20), "topic": "补录二月主题党日"},
        today=date(2026, 4, 1),
    )
    expected = set(meeting.attendance.values_list("name", flat=True))
    assert "后转出" in expected  # still on this branch's roster on 20 February
    assert "后转入" not in expected  # arrived in March
