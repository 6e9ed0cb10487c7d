"""Filtering and paging the roster.

Paging is by keyset (the last row's sort value and id), so page 500 costs what page 1 costs
and no page needs a COUNT over the roster; the count is asked for separately.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import date

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from dangjian.organizations.models import Organization

from .choices import ON_ROSTER, Education, Membership
from .models import Member

PAGE_SIZE = 50
SORT_FIELDS = {"name", "joined_on", "-joined_on", "birth_date"}


def years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


# The bands the roster filters by and the statistics count in: (key, label). A key is
# "low-high" years, either end open ("-30", "71-").
AGE_BANDS = [
    ("-30", _("30岁及以下")),
    ("31-40", _("31至40岁")),
    ("41-50", _("41至50岁")),
    ("51-60", _("51至60岁")),
    ("61-70", _("61至70岁")),
    ("71-", _("71岁及以上")),
]
PARTY_AGE_BANDS = [
    ("-5", _("5年及以下")),
    ("6-10", _("6至10年")),
    ("11-20", _("11至20年")),
    ("21-30", _("21至30年")),
    ("31-40", _("31至40年")),
    ("41-50", _("41至50年")),
    ("51-", _("51年及以上")),
]


def age_band_q(band: str, today: date) -> Q:
    """Members whose age today is within ``band`` ("31-40", "-30", "71-")."""
    low, _, high = band.partition("-")
    q = Q()
    if low:
        q &= Q(birth_date__lte=years_before(today, int(low)))
    if high:
        q &= Q(birth_date__gt=years_before(today, int(high) + 1))
    return q


def _since_q(lookup: str, day: date) -> Q:
    """The member's 党龄 start (conversion date; the date of joining where a record imported
    without one lacks it) compared with ``day``."""
    return Q(full_member_on__isnull=False, **{f"full_member_on__{lookup}": day}) | Q(
        full_member_on__isnull=True, **{f"joined_on__{lookup}": day}
    )


def party_age_band_q(band: str, today: date) -> Q:
    """Full members whose years of membership (党龄, counted from becoming a full member,
    党章 art.7) on ``today`` are within ``band`` ("6-10", "-5", "51-")."""
    low, _, high = band.partition("-")
    q = Q(membership=Membership.FULL)
    if low:
        q &= _since_q("lte", years_before(today, int(low)))
    if high:
        q &= _since_q("gt", years_before(today, int(high) + 1))
    return q


HAN = "汉族"
COLLEGE_OR_ABOVE = (Education.POSTGRADUATE, Education.BACHELOR, Education.COLLEGE)


def ethnicity_q(value: str) -> Q:
    return ~Q(ethnicity=HAN) if value == "minority" else Q(ethnicity=value)


def education_q(value: str) -> Q:
    if value == "college_or_above":
        return Q(education__in=COLLEGE_OR_ABOVE)
    return Q(education=value)


def filter_roster(members: QuerySet, data: dict, anchor: Organization | None, today: date):
    """Apply the roster filters (cleaned RosterFilter data) to an already scoped queryset."""
    if anchor is not None:
        if data.get("descendants", True):
            members = members.filter(organization__in=Organization.objects.within(anchor))
        else:
            members = members.filter(organization=anchor)
    standing = data.get("standing")
    members = (
        members.filter(standing=standing) if standing else members.filter(standing__in=ON_ROSTER)
    )
    for field in ("membership", "category", "gender", "occupation"):
        if data.get(field):
            members = members.filter(**{field: data[field]})
    if data.get("education"):
        members = members.filter(education_q(data["education"]))
    if data.get("ethnicity"):
        members = members.filter(ethnicity_q(data["ethnicity"]))
    if data.get("age"):
        members = members.filter(age_band_q(data["age"], today))
    if data.get("party_age"):
        members = members.filter(party_age_band_q(data["party_age"], today))
    if data.get("joined_year"):
        members = members.filter(joined_on__year=data["joined_year"])
    if data.get("q"):
        members = members.filter(name__icontains=data["q"].strip())
    return members


@dataclass
class RosterQuery:
    """The roster filters read from a query string, and the organization they point at."""

    form: object  # RosterFilter
    data: dict
    anchor: Organization | None
    errors: dict
    org_hidden: bool  # an organization was asked for that the user may not see (or no id)


def roster_query(user, params, default_descendants: bool = True) -> RosterQuery:
    """Each valid filter is kept (a bad value drops only itself); ``org`` is resolved within
    the organizations whose members ``user`` may see."""
    from dangjian.accounts.roles import Perm

    from .forms import RosterFilter

    form = RosterFilter(params or None)
    data = {"descendants": default_descendants}
    if params:
        form.is_valid()
        data = dict(form.cleaned_data)
    anchor, hidden = None, "org" in form.errors
    if data.get("org"):
        anchor = (
            Organization.objects.for_user(user, Perm.VIEW_MEMBERS).filter(pk=data["org"]).first()
        )
        hidden = anchor is None
    return RosterQuery(form, data, anchor, dict(form.errors), hidden)


@dataclass
class Page:
    rows: list[Member]
    next_cursor: str | None


def encode_cursor(value, pk: int) -> str:
    raw = json.dumps([value.isoformat() if isinstance(value, date) else value, pk])
    return base64.urlsafe_b64encode(raw.encode()).decode()


def decode_cursor(cursor: str, sort_field: str):
    try:
        value, pk = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if sort_field in ("joined_on", "birth_date"):
            value = date.fromisoformat(value)
        return value, int(pk)
    except (ValueError, TypeError):
        return None


def keyset_page(members: QuerySet, sort: str, cursor: str | None, size: int = PAGE_SIZE) -> Page:
    sort = sort if sort in SORT_FIELDS else "name"
    descending = sort.startswith("-")
    field = sort.lstrip("-")
    members = members.order_by(f"-{field}", "-id") if descending else members.order_by(field, "id")
    if cursor and (decoded := decode_cursor(cursor, field)):
        value, pk = decoded
        if descending:
            members = members.filter(
                Q(**{f"{field}__lt": value}) | Q(**{field: value, "id__lt": pk})
            )
        else:
            members = members.filter(
                Q(**{f"{field}__gt": value}) | Q(**{field: value, "id__gt": pk})
            )
    rows = list(members.select_related("organization")[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    next_cursor = encode_cursor(getattr(rows[-1], field), rows[-1].pk) if more else None
    return Page(rows, next_cursor)
