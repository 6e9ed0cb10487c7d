"""Demo members for the seeded organizations: deterministic for a seed, bulk-inserted.

Members sit on the rosters of branches (党支部, 联合/临时党支部). Their records follow the
rules the roster enforces (valid GB 11643 numbers agreeing with birth date and gender,
joined at 18 or older, full membership a year after joining), with a few floating and
lost-contact members so those flags have something to show.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from dangjian.organizations.models import BRANCH_TYPES, CommitteeMember, Organization, Sector

from . import idnumber
from .choices import ETHNICITIES, Category, Education, Membership, Occupation, Standing
from .flags import COMMITTEE_POSTS
from .models import Member

BATCH_SIZE = 2000
# Address codes of a fictional city's districts (plausible provincial prefix 42).
REGIONS = ("420102", "420103", "420104", "420105", "420106", "420107", "420111", "420112")
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓"
    "曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红梅玲斌海波辉鹏宇浩凯健俊帆"
DESTINATIONS = ("广东省深圳市", "浙江省杭州市", "上海市浦东新区", "江苏省苏州市", "北京市朝阳区")
ROADS = ("和平路", "解放大道", "建设街", "中山路", "人民路", "友谊大道", "沿江大道")


@dataclass(frozen=True)
class MemberScale:
    low: int
    mode: int
    high: int


# Sizes of branches that have a committee (those with only a secretary get 3–6 members).
# The demo stays mostly within the 50-member rule; the city is sized for the benchmarks
# (about 300,000 members on its ~5,000 branches), which leaves many of its branches large.
MEMBER_SCALES = {
    "tiny": MemberScale(3, 8, 14),
    "demo": MemberScale(5, 22, 54),
    "city": MemberScale(40, 95, 140),
}

SECTOR_PROFILE = {
    Sector.VILLAGE: (Occupation.FARMER, Category.RESIDENT, Education.JUNIOR_HIGH_OR_BELOW),
    Sector.COMMUNITY: (Occupation.RETIRED, Category.RETIRED, Education.HIGH_SCHOOL),
    Sector.GOVERNMENT_ORGAN: (Occupation.CIVIL_SERVANT, Category.IN_SERVICE, Education.BACHELOR),
    Sector.PUBLIC_INSTITUTION: (
        Occupation.ENTERPRISE_STAFF,
        Category.IN_SERVICE,
        Education.BACHELOR,
    ),
    Sector.STATE_OWNED_ENTERPRISE: (Occupation.WORKER, Category.IN_SERVICE, Education.COLLEGE),
    Sector.NON_PUBLIC_ENTERPRISE: (
        Occupation.ENTERPRISE_STAFF,
        Category.IN_SERVICE,
        Education.COLLEGE,
    ),
    Sector.SOCIAL_ORGANIZATION: (Occupation.OTHER, Category.IN_SERVICE, Education.BACHELOR),
    Sector.OTHER: (Occupation.OTHER, Category.RESIDENT, Education.HIGH_SCHOOL),
}


def demo_id_number(rng: random.Random, used: set[str], birth: date, male: bool) -> str:
    """A valid GB 11643 number for ``birth`` and the gender, from the fictional city's
    districts, not in ``used`` (which it joins)."""
    while True:
        sequence = rng.randrange(0, 499) * 2 + (1 if male else 0)
        first17 = f"{rng.choice(REGIONS)}{birth:%Y%m%d}{sequence:03d}"
        number = first17 + idnumber.check_character(first17)
        if number not in used:
            used.add(number)
            return number


class MemberGenerator:
    def __init__(self, seed: int, scale: str, today: date):
        self.rng = random.Random(f"members-{seed}")
        self.scale = MEMBER_SCALES[scale]
        self.today = today
        self.used_ids: set[str] = set()

    def birth_date(self, sector: str) -> date:
        low, high = (25, 88) if sector in (Sector.COMMUNITY, Sector.VILLAGE) else (22, 60)
        return self.today - timedelta(days=self.rng.randint(low * 365, high * 365))

    def id_number(self, birth: date, male: bool) -> str:
        return demo_id_number(self.rng, self.used_ids, birth, male)

    def member(self, organization: Organization) -> Member:
        rng = self.rng
        male = rng.random() < 0.68
        birth = self.birth_date(organization.sector)
        occupation, category, education = SECTOR_PROFILE.get(
            organization.sector, SECTOR_PROFILE[Sector.OTHER]
        )
        if category == Category.RETIRED and self.today.year - birth.year < 60:
            occupation, category = Occupation.OTHER, Category.RESIDENT
        if rng.random() < 0.2:
            education = rng.choice(Education.values)
        adult = (
            birth.replace(year=birth.year + 18)
            if (birth.month, birth.day) != (2, 29)
            else (date(birth.year + 18, 3, 1))
        )
        joined = adult + timedelta(days=rng.randint(0, max(1, (self.today - adult).days)))
        membership = Membership.FULL
        full_member_on = joined + timedelta(days=365)
        if full_member_on > self.today:
            membership, full_member_on = Membership.PROBATIONARY, None
        standing = Standing.NORMAL
        floating_destination, floating_since, lost_contact_since = "", None, None
        roll = rng.random()
        if roll < 0.02:
            standing = Standing.FLOATING
            floating_destination = rng.choice(DESTINATIONS)
            floating_since = self.today - timedelta(days=rng.randint(30, 900))
        elif roll < 0.024:
            lost_contact_since = self.today - timedelta(days=rng.randint(100, 900))
            if lost_contact_since < self.today - timedelta(days=365):
                standing = Standing.LOST_CONTACT
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2)))
        return Member(
            organization_id=organization.pk,
            name=name,
            gender="male" if male else "female",
            ethnicity="汉族" if rng.random() < 0.93 else rng.choice(ETHNICITIES[1:20]),
            id_number=(number := self.id_number(birth, male)),
            id_hash=idnumber.lookup_hash(number),
            birth_date=birth,
            education=education,
            occupation=occupation,
            work_unit=organization.unit_name or "",
            phone=f"1{rng.choice('3578')}{rng.randint(0, 999999999):09d}",
            address=f"{rng.choice(ROADS)}{rng.randint(1, 399)}号",
            joined_on=joined,
            full_member_on=full_member_on,
            membership=membership,
            standing=standing,
            category=Category.FLOATING if standing == Standing.FLOATING else category,
            floating_destination=floating_destination,
            floating_since=floating_since,
            lost_contact_since=lost_contact_since,
        )

    def run(self, organizations) -> int:
        """Create members for every active branch in ``organizations``; returns how many."""
        branches = (
            organizations.filter(org_type__in=BRANCH_TYPES, dissolved_on__isnull=True)
            .only("pk", "sector", "unit_name")
            .order_by("path")
        )
        # A branch with only a secretary is a small one (fewer than 7 full members); a few are
        # left larger so that the "no committee" flag has something to show.
        with_committee = set(
            CommitteeMember.objects.filter(
                organization__in=branches, post__in=COMMITTEE_POSTS, ended_on__isnull=True
            ).values_list("organization_id", flat=True)
        )
        batch, total = [], 0
        for branch in branches.iterator(chunk_size=1000):
            size = round(self.rng.triangular(self.scale.low, self.scale.high, self.scale.mode))
            if branch.pk not in with_committee and self.rng.random() > 0.04:
                size = self.rng.randint(3, 6)
            batch.extend(self.member(branch) for _ in range(size))
            if len(batch) >= BATCH_SIZE:
                Member.objects.bulk_create(batch, batch_size=BATCH_SIZE)
                total += len(batch)
                batch = []
        Member.objects.bulk_create(batch, batch_size=BATCH_SIZE)
        return total + len(batch)

    def link_users(self, users_and_branch: list[tuple[object, Organization]]) -> None:
        """Give each demo login a member record of its own, in its branch."""
        for user, branch in users_and_branch:
            member = self.member(branch)
            member.user = user
            member.name = user.full_name or member.name
            member.save()
