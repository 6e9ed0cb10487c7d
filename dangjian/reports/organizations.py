"""Organizations of a subtree by type and by sector, and their committees and terms, per
child organization. One aggregate query over the subtree's active organizations; the term
and secretary columns count exactly what the flags of the same names raise."""

from __future__ import annotations

from datetime import date

from django.db.models import Count, Q
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from dangjian.organizations.flags import (
    has_secretary,
    term_due_soon_q,
    term_horizon,
    term_overdue_q,
    term_unrecorded_q,
)
from dangjian.organizations.models import Organization, OrgType, Sector
from dangjian.organizations.rules import ELECTED_TYPES, SECRETARY_REQUIRED_TYPES
from dangjian.organizations.services import rulebook_for

from .tables import Column, Table, child_rows, grouped_by_child, split_tables, total_row


def organization_list_link(anchor: Organization):
    def link(organization, column, own=False):
        if column.filters is None:
            return None
        if "flag" in column.filters:
            return reverse(
                "core:flag_list", args=[column.filters["flag"], (organization or anchor).pk]
            )
        url = reverse("reports:organizations", args=[(organization or anchor).pk])
        return url + ("?" + urlencode(column.filters) if column.filters else "")

    return link


def organization_tables(organization: Organization, today: date) -> list[Table]:
    horizon = term_horizon(today, rulebook_for(organization))
    elected = Q(org_type__in=ELECTED_TYPES)
    needs_secretary = Q(org_type__in=SECRETARY_REQUIRED_TYPES)
    type_columns = (
        [Column("total", _("党组织总数"), {})]
        + [
            Column(v, str(label), {"org_type": v}, percent=True)
            for v, label in OrgType.choices
            if v != OrgType.GROUP
        ]
        + [Column(OrgType.GROUP, _("党小组（不计入总数）"), {"org_type": OrgType.GROUP})]
    )
    sector_columns = [Column("total", _("党组织总数"), {})] + [
        Column(v, str(label), {"sector": v}, percent=True) for v, label in Sector.choices
    ]
    term_columns = [
        Column("elected", _("应按期换届的党组织"), {"elected": "1"}),
        Column("term_recorded", _("已登记本届任期"), None, percent=True),
        Column("term_overdue", _("任期已届满未换届"), {"flag": "term_overdue"}, percent=True),
        Column("term_due_soon", _("任期即将届满"), {"flag": "term_due_soon"}, percent=True),
        Column("term_unrecorded", _("未登记本届任期"), {"flag": "term_unrecorded"}, percent=True),
        Column("needs_secretary", _("应配备书记的党组织"), None),
        Column("secretary_missing", _("未配备书记"), {"flag": "secretary_missing"}),
    ]
    # 党小组 are part of their branch, not organizations of their own in the statistics.
    organization_q = ~Q(org_type=OrgType.GROUP)
    aggregates = {
        "total": Count("pk", filter=organization_q),
        **{f"type__{v}": Count("pk", filter=Q(org_type=v)) for v in OrgType.values},
        **{f"sector__{v}": Count("pk", filter=organization_q & Q(sector=v)) for v in Sector.values},
        "term__elected": Count("pk", filter=elected),
        "term__term_recorded": Count("pk", filter=elected & Q(term_started_on__isnull=False)),
        "term__term_overdue": Count("pk", filter=term_overdue_q(today)),
        "term__term_due_soon": Count("pk", filter=term_due_soon_q(today, horizon)),
        "term__term_unrecorded": Count("pk", filter=term_unrecorded_q()),
        "term__needs_secretary": Count("pk", filter=needs_secretary),
        "term__secretary_missing": Count("pk", filter=needs_secretary & Q(has_secretary=False)),
    }
    subtree = Organization.objects.within(organization).active()
    counts = split_tables(
        grouped_by_child(
            subtree.annotate(has_secretary=has_secretary()), "path", organization, **aggregates
        )
    )
    link = organization_list_link(organization)
    tables = []
    for key, group, title, columns, base in (
        ("org_types", "type", _("党组织类别"), type_columns, "total"),
        ("sectors", "sector", _("党组织所在单位类别"), sector_columns, "total"),
        ("terms", "term", _("班子与任期"), term_columns, "elected"),
    ):
        table_counts = counts.get(group, {})
        tables.append(
            Table(
                key=key,
                title=title,
                columns=columns,
                rows=child_rows(organization, table_counts),
                total=total_row(organization, table_counts, columns),
                base=base,
                link=link,
            )
        )
    tables[0].note = _("党组织总数不含党小组。")
    tables[1].note = _("按党组织所在单位的类别统计，不含党小组。")
    tables[2].note = _(
        "按期换届的党组织为党委、党总支、党支部和联合党支部；届满前预警月数按规则设置。"
    )
    return tables
