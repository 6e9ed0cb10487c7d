"""Members of a subtree by gender, age, ethnicity, education, occupation, years of membership
(党龄), management category and status, per child organization.

One aggregate query over the subtree's roster counts every bucket of every dimension at
once (conditional counts grouped by the child each member's organization lies under); one
more groups the ethnic minorities by ethnicity. Members counted are those on the roster
(normal, floating, lost contact), as the roster itself counts them; ages and years of
membership are on ``today``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Q
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from dangjian.members.choices import (
    ETHNICITIES,
    ON_ROSTER,
    Category,
    Education,
    Gender,
    Membership,
    Occupation,
    Standing,
)
from dangjian.members.models import Member
from dangjian.members.roster import (
    AGE_BANDS,
    HAN,
    PARTY_AGE_BANDS,
    age_band_q,
    education_q,
    ethnicity_q,
    party_age_band_q,
)
from dangjian.organizations.models import Organization

from .tables import Column, Row, Table, child_rows, grouped_by_child, split_tables, total_row


@dataclass(frozen=True)
class Bucket:
    key: str
    label: str
    q: Q
    filters: dict | None


def dimensions(today: date) -> list[tuple[str, str, list[Bucket]]]:
    """(table key, title, buckets) for every dimension; the buckets of one dimension are
    disjoint and cover the roster, except where a table says otherwise in its note."""
    return [
        (
            "gender",
            _("党员性别构成"),
            [Bucket(v, str(label), Q(gender=v), {"gender": v}) for v, label in Gender.choices],
        ),
        (
            "age",
            _("党员年龄构成"),
            [
                Bucket(f"age{k}", str(label), age_band_q(k, today), {"age": k})
                for k, label in AGE_BANDS
            ],
        ),
        (
            "ethnicity",
            _("党员民族构成"),
            [
                Bucket("han", HAN, ethnicity_q(HAN), {"ethnicity": HAN}),
                Bucket(
                    "minority", _("少数民族"), ethnicity_q("minority"), {"ethnicity": "minority"}
                ),
            ],
        ),
        (
            "education",
            _("党员学历构成"),
            [
                Bucket(v, str(label), Q(education=v), {"education": v})
                for v, label in Education.choices
            ]
            + [
                Bucket(
                    "college_or_above",
                    _("其中：大专及以上"),
                    education_q("college_or_above"),
                    {"education": "college_or_above"},
                )
            ],
        ),
        (
            "occupation",
            _("党员职业构成"),
            [
                Bucket(v, str(label), Q(occupation=v), {"occupation": v})
                for v, label in Occupation.choices
            ],
        ),
        (
            "party_age",
            _("党员党龄构成"),
            [
                Bucket(f"y{k}", str(label), party_age_band_q(k, today), {"party_age": k})
                for k, label in PARTY_AGE_BANDS
            ]
            + [
                Bucket(
                    "probationary",
                    _("预备党员（未计党龄）"),
                    Q(membership=Membership.PROBATIONARY),
                    {"membership": Membership.PROBATIONARY},
                )
            ],
        ),
        (
            "category",
            _("党员管理类别"),
            [
                Bucket(v, str(label), Q(category=v), {"category": v})
                for v, label in Category.choices
            ],
        ),
        (
            "status",
            _("党员类别与状态"),
            [
                Bucket(v, str(label), Q(membership=v), {"membership": v})
                for v, label in Membership.choices
            ]
            + [
                Bucket(v, str(Standing(v).label), Q(standing=v), {"standing": v}) for v in ON_ROSTER
            ],
        ),
    ]


NOTES = {
    "education": _("“其中：大专及以上”是研究生、大学本科、大学专科之和，不另计入合计。"),
    "status": _("正式党员与预备党员之和为合计；正常、流动、失联三种状态之和也为合计。"),
}


def roster_members(organization: Organization):
    return Member.objects.filter(
        organization__in=Organization.objects.within(organization), standing__in=ON_ROSTER
    )


def roster_link(organization, column: Column, anchor: Organization, own: bool = False):
    if column.filters is None:
        return None
    params = {"org": (organization or anchor).pk, **column.filters}
    if not own:  # a bound roster filter without "descendants" lists the organization alone
        params["descendants"] = "on"
    return reverse("members:roster") + "?" + urlencode(params)


def member_tables(organization: Organization, today: date) -> list[Table]:
    """Every member table of ``organization``'s subtree: one aggregate query for all of them,
    one for the minorities' ethnicities."""
    dims = dimensions(today)
    aggregates = {"total": Count("pk")}
    for key, _title, buckets in dims:
        for bucket in buckets:
            aggregates[f"{key}__{bucket.key}"] = Count("pk", filter=bucket.q)
    counts_by_dim = split_tables(
        grouped_by_child(
            roster_members(organization), "organization__path", organization, **aggregates
        )
    )
    tables = []

    def link(org, column, own=False):
        return roster_link(org, column, organization, own)

    for key, title, buckets in dims:
        columns = [Column("total", _("党员总数"), {})] + [
            Column(b.key, b.label, b.filters, percent=True) for b in buckets
        ]
        counts = counts_by_dim.get(key, {})
        tables.append(
            Table(
                key=key,
                title=title,
                columns=columns,
                rows=child_rows(organization, counts),
                total=total_row(organization, counts, columns),
                base="total",
                note=NOTES.get(key, ""),
                link=link,
            )
        )
    tables.insert(3, minority_table(organization, link))
    return tables


def minority_table(organization: Organization, link) -> Table:
    """The subtree's ethnic-minority members by ethnicity (one row: the whole subtree)."""
    counts = dict(
        roster_members(organization)
        .exclude(ethnicity=HAN)
        .values_list("ethnicity")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("ethnicity", "n")
    )
    names = [e for e in ETHNICITIES if e != HAN]
    columns = [Column("minority", _("少数民族党员"), {"ethnicity": "minority"})] + [
        Column(name, name, {"ethnicity": name}) for name in names
    ]
    values = {"minority": sum(counts.values()), **{name: counts.get(name, 0) for name in names}}
    return Table(
        key="minorities",
        title=_("少数民族党员构成"),
        columns=columns,
        rows=[],
        total=Row(organization.name, organization, values),
        link=link,
        vertical=True,
        hide_zero=True,
    )
