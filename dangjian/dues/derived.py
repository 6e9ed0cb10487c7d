"""What the dues services keep in step with each member's ledger, derived from the bases and
payments so that subtree-wide figures are range conditions and joins:

* each base's ``effective_until``, the month the member's next base starts;
* each member's unpaid runs (:class:`~dangjian.dues.models.UnpaidRun`), read by the arrears
  flags.

A month of the member's ledger is *covered* when it is before the member's first base, paid
(any payment row, prepaid months too) or under an approved exemption (the base in force that
month is exempt). The runs are the maximal stretches of months that are not covered, from the
first base on; the last one is open-ended unless an exemption is in force for good.

Both are computed by set-based statements for the given members or all of them: the services
call :func:`refresh_ledger` for the member whose ledger they change, the demo loader and the
migration for everyone. Covered stretches are merged in month order: a run lies between a
stretch and the next one that starts more than a month after everything before it has ended
(a running maximum, as a window function).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection
from django.db.models import OuterRef, Subquery

from dangjian.members.models import Member

from .models import DuesBase, DuesPayment, Reduction, UnpaidRun

# A month number beyond any date: the end of an exemption that no later base ends.
FOREVER = 10**6

# Months as numbers (year × 12 + month − 1, consecutive months differ by one) and back, on
# the two databases the project runs on. SQLite keeps a date as 'YYYY-MM-DD' text.
DIALECTS = {
    "sqlite": {
        "number": (
            "(CAST(substr({0}, 1, 4) AS INTEGER) * 12 + CAST(substr({0}, 6, 2) AS INTEGER) - 1)"
        ),
        "month": "printf('%%04d-%%02d-01', ({0}) / 12, ({0}) %% 12 + 1)",
        "greatest": "MAX({0}, {1})",
    },
    "postgresql": {
        "number": "(EXTRACT(YEAR FROM {0})::integer * 12 + EXTRACT(MONTH FROM {0})::integer - 1)",
        "month": "make_date(({0}) / 12, ({0}) %% 12 + 1, 1)",
        "greatest": "GREATEST({0}, {1})",
    },
}


def runs_sql(member_ids: list[int] | None) -> tuple[str, list]:
    """INSERT … SELECT of the runs of ``member_ids`` (None: every member's)."""
    dialect = DIALECTS[connection.vendor]

    def number(column):
        return dialect["number"].format(column)

    def month(expression):
        return dialect["month"].format(expression)

    qn = connection.ops.quote_name
    bases, payments, runs = (qn(m._meta.db_table) for m in (DuesBase, DuesPayment, UnpaidRun))
    ids = ", ".join(["%s"] * len(member_ids)) if member_ids else ""

    def of_members(alias: str, keyword: str = "WHERE") -> str:
        return f"{keyword} {alias}member_id IN ({ids})" if member_ids is not None else ""

    sql = f"""
INSERT INTO {runs} (member_id, first_month, last_month)
WITH firsts AS (
    SELECT member_id, MIN({number("effective_from")}) - 1 AS before
    FROM {bases} {of_members("")} GROUP BY member_id
),
covered AS (
    SELECT member_id, before AS s, before AS e FROM firsts
    UNION ALL
    SELECT member_id, {number("month")}, {number("month")} FROM {payments} {of_members("")}
    UNION ALL
    SELECT member_id, {number("effective_from")},
        COALESCE({number("effective_until")} - 1, {FOREVER})
    FROM {bases} WHERE reduction = %s {of_members("", "AND")}
),
clamped AS (
    SELECT c.member_id, {dialect["greatest"].format("c.s", "f.before")} AS s, c.e
    FROM covered c JOIN firsts f ON f.member_id = c.member_id
    WHERE c.e >= f.before
),
reach AS (
    SELECT member_id, s, MAX(e) OVER (
        PARTITION BY member_id ORDER BY s, e ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
    ) AS covered_to
    FROM clamped
)
SELECT member_id, {month("covered_to + 1")}, {month("s - 1")}
FROM reach WHERE s > covered_to + 1
UNION ALL
SELECT member_id, {month("MAX(e) + 1")}, NULL
FROM clamped GROUP BY member_id HAVING MAX(e) < {FOREVER}
"""
    members = list(member_ids or [])
    return sql, [*members, *members, Reduction.EXEMPT.value, *members]


def link_bases(bases) -> None:
    """Set ``effective_until`` of ``bases`` (a DuesBase queryset, of any model state: the
    migration passes its historical model's) to the month the member's next base starts."""
    following = (
        bases.model.objects.filter(
            member=OuterRef("member"), effective_from__gt=OuterRef("effective_from")
        )
        .order_by("effective_from")
        .values("effective_from")[:1]
    )
    bases.update(effective_until=Subquery(following))


def refresh_unpaid_runs(member_ids: list[int] | None = None) -> None:
    """Recompute the unpaid runs of ``member_ids`` (None: of every member) from their bases
    (with ``effective_until`` up to date) and payments: two statements."""
    if member_ids is not None and not member_ids:
        return
    runs = UnpaidRun.objects.all()
    if member_ids is not None:
        runs = runs.filter(member_id__in=member_ids)
    runs.delete()
    sql, params = runs_sql(member_ids)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def refresh_ledger(member_ids: Iterable[int] | None = None) -> None:
    """Bring everything derived from the ledger of ``member_ids`` (None: of every member) up
    to date after its bases or payments changed: a few statements, whatever the number
    of members. Call it inside the transaction that changed the ledger."""
    ids = None if member_ids is None else sorted(set(member_ids))
    if ids == []:
        return
    bases = DuesBase.objects.all()
    if ids is not None:
        # One member's ledger at a time: a concurrent change waits here, then sees this one's.
        list(Member.objects.select_for_update().filter(pk__in=ids).values_list("pk"))
        bases = bases.filter(member_id__in=ids)
    link_bases(bases)
    refresh_unpaid_runs(ids)
