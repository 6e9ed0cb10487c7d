"""Floors: for each query-shaped page for the root, one hand-written SQL statement returning
the numbers the page shows, and a check that they are the same numbers.

A floor is what the page's data would cost if it were fetched by one statement written by
hand for this page alone: no ORM, no Python between queries, no templates. The benchmark
times the page through the whole stack and the floor on a plain cursor; page / floor is how
far the product is from what the database can do for that page (the target is 2×).

A floor is only worth its name if it computes the same thing, so before anything is timed
every floor is run and compared with what the product's own Python functions compute for
the root (``Floor.check``); any difference stops the benchmark with the differing numbers.
The floors are written from the definitions (the flags' docstrings, the views), not by
copying the ORM's SQL, and in one dialect where SQLite and PostgreSQL agree; where Django
itself compiles differently (``Greatest``, ``Cast`` to a date) the floor follows it, and where
the databases genuinely differ (SQLite sums decimals in floating point) so does the floor.

Constants (organization types, step numbers, rule values in force for the root, today) come
from the product as parameters: the floor measures the query, not the configuration.

The statistics page (each section) and the dashboard (each panel, and all of them) return
every cell of the tables they show in long form, one row a cell, so that their statements
compose into the dashboard's one statement (see the end of the module).

Each ``*_floor`` function returns a :class:`Floor`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any


class FloorMismatch(AssertionError):
    """A floor's numbers differ from the product's: the floor (or the page) is wrong."""


@dataclass
class Floor:
    sql: str
    params: dict | list
    # The floor's rows (and cursor.description) -> the page's numbers, comparable with ==.
    numbers: Callable[[list[tuple], Any], Any]
    # The page's numbers as the product's own functions compute them.
    product: Callable[[], Any]
    summary: dict = field(default_factory=dict)  # a few figures for the results (set by check)
    # Other statements that must give the same numbers (e.g. from the definitions, where the
    # floor reads data the product derives and keeps): checked too, not timed.
    cross_checks: dict[str, Floor] = field(default_factory=dict)

    def run(self):
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(self.sql, self.params)
            rows = cursor.fetchall()
            return self.numbers(rows, cursor.description)

    def check(self, name: str) -> None:
        """Raise :class:`FloorMismatch` unless the floor gives the product's numbers."""
        expected, got = self.product(), self.run()
        if expected != got:
            raise FloorMismatch(
                f"the floor of {name!r} disagrees with the page:\n{diff(expected, got)}"
            )
        for what, other in self.cross_checks.items():
            also = other.run()
            if also != got:
                raise FloorMismatch(
                    f"the floor of {name!r} agrees with the page, but {what} does not:\n"
                    f"{diff(got, also)}\n(the page's numbers are on the left)"
                )
        self.summary = summarize(expected)


def diff(expected, got, limit: int = 12) -> str:
    if isinstance(expected, dict) and isinstance(got, dict):
        lines = []
        for key in sorted(set(expected) | set(got), key=str):
            a, b = expected.get(key, "(absent)"), got.get(key, "(absent)")
            if a == b:
                continue
            if isinstance(a, list) and isinstance(b, list):
                lines.append(f"  {key!r}:\n{diff(a, b, limit)}")
            else:
                lines.append(f"  {key!r}: page {a!r}, floor {b!r}")
        more = f"\n  … {len(lines) - limit} more" if len(lines) > limit else ""
        return "\n".join(lines[:limit]) + more
    if isinstance(expected, list) and isinstance(got, list):
        lines = [f"  page has {len(expected)} rows, floor {len(got)}"]
        for i, (a, b) in enumerate(zip(expected, got, strict=False)):
            if a != b:
                lines.append(f"  row {i}: page {a!r}\n         floor {b!r}")
                if len(lines) > limit:
                    break
        return "\n".join(lines)
    return f"  page {expected!r}\n  floor {got!r}"


def summarize(numbers) -> dict:
    """What the results keep of the numbers checked: every count, or how many rows / cells."""
    if isinstance(numbers, dict) and all(
        isinstance(k, str) and isinstance(v, int) for k, v in numbers.items()
    ):
        return dict(numbers)
    if isinstance(numbers, dict) and isinstance(numbers.get("rows"), list):
        return {k: len(v) if isinstance(v, list) else v for k, v in numbers.items()}
    if isinstance(numbers, dict):
        return {"cells": len(numbers)}
    if isinstance(numbers, list):
        return {"rows": len(numbers)}
    return {}


class Sql:
    """Named parameters for a statement being written: ``p(value)`` gives ``%(pN)s`` (the same
    name for the same value), so fragments can be built in any order."""

    def __init__(self):
        self.params: dict = {}
        self._names: dict = {}

    def __call__(self, value) -> str:
        key = (type(value), value)
        name = self._names.get(key)
        if name is None:
            name = self._names[key] = f"p{len(self._names)}"
            self.params[name] = value
        return f"%({name})s"

    def many(self, values) -> str:
        values = sorted(str(v) for v in values)
        assert values, "an empty IN list"
        return ", ".join(self(v) for v in values)


def subtree_bounds(root) -> tuple[str, str]:
    from dangjian.organizations.querysets import path_successor

    return root.path, path_successor(root.path) or "~"


def one_row(rows, description) -> dict:
    (row,) = rows
    return {column[0]: int(value or 0) for column, value in zip(description, row, strict=True)}


# --------------------------------------------------------------------------------------------
# Home page: the counts by organization type and every flag's count, for the root
# --------------------------------------------------------------------------------------------


def home_product(root) -> dict[str, int]:
    """What the home page shows for ``root`` (less the first five hits listed under each
    flag): the active organizations of each type, and each flag's count."""
    from dangjian.core.flags import all_flags
    from dangjian.core.views import flag_context, type_counts
    from dangjian.organizations.models import OrgType

    ctx = flag_context(root)
    counts = type_counts(root)  # (label, n) in the order of OrgType.choices
    numbers = {
        f"type:{value}": n for value, (_label, n) in zip(OrgType.values, counts, strict=True)
    }
    numbers.update({flag.key: flag.count(ctx) for flag in all_flags()})
    return numbers


# The flags the home floor computes. A flag registered in the product and missing here stops
# the benchmark: its count would be on the page and not in the floor.
HOME_FLOOR_FLAGS = frozenset(
    {
        # organizations (dangjian/organizations/flags.py)
        "term_overdue",
        "term_due_soon",
        "term_unrecorded",
        "secretary_missing",
        "community_premises_below",
        "hollow_village",
        "uncovered_new_organization",
        "six_haves_incomplete",
        # branch size (dangjian/members/flags.py)
        "oversized_branch",
        "branch_without_committee",
        # members (dangjian/members/flags.py, transfers.py)
        "lost_contact_member",
        "floating_member",
        "transfer_expired",
        # organizational life (dangjian/orglife/flags.py)
        "absent_from_life",
        "absence_warning",
        # dues (dangjian/dues/flags.py)
        "dues_arrears",
        "dues_arrears_warning",
        # development (dangjian/development/flags.py)
        "development_talk_due",
        "development_assessment_due",
        "development_approval_pending",
        "development_probation_ending",
        "development_conversion_pending",
        "no_new_member",
    }
)


def home_floor(root, today: date | None = None, dues: str | None = None) -> Floor:
    """One statement: a single row, one column per organization type and per flag.

    One pass over each table (CTEs), then one row of sums:

    * ``scope``: the active organizations of the subtree, with their parent's sector (to tell
      the top organization of a host unit), last year's village income, and whether a
      secretary / the three committee members are in office;
    * ``roster``: per organization, its members (any standing) counted by the conditions of
      the branch-size, member and organizational-life flags, and the latest 入党日期 (for
      no-new-member);
    * ``records``: per organization, its development records counted by the step flags, and
      the latest admission (any outcome, for no-new-member);
    * ``dues_totals``: both arrears flags (P ≤ m, see dangjian/dues/flags.py), from
      ``dues``:

      - ``"ledger"``: from the definition, the members in normal standing with a base, each
        with its last paid month up to L, its first base and its latest exemption;
      - ``"runs"``: from the unpaid runs the dues services keep (``UnpaidRun``): the members
        whose run holding L began by m + 1 and who joined before m + 1.

      By default the runs when the product has them (a floor must be free to read what the
      product reads), with the ledger's numbers checked equal too (``cross_checks``): the
      derived runs are held to the definition;

    and two counts over the whole subtree (dissolved organizations included, as in the
    product): new organizations not covered, expired transfer letters.
    """
    from django.utils import timezone

    today = today or timezone.localdate()
    if dues is None:
        dues = "runs" if unpaid_run_table() else "ledger"
    p = Sql()
    ctes, select = home_statement(p, root, today, dues)
    sql = f"WITH {ctes}\n{select}"

    def numbers(rows, description) -> dict[str, int]:
        row = one_row(rows, description)
        return {
            (f"type:{value}" if (value := untype_column(key)) else key): n for key, n in row.items()
        }

    def product() -> dict[str, int]:
        from dangjian.core.flags import FLAGS

        missing = set(FLAGS) - HOME_FLOOR_FLAGS
        if missing:
            raise FloorMismatch(
                f"flags on the home page without SQL in the home floor: {sorted(missing)} "
                "(add them to benchmarks/floors.py home_floor)"
            )
        return home_product(root)

    floor = Floor(sql, p.params, numbers, product)
    if dues == "runs":
        floor.cross_checks["the floor from the dues ledger (not the unpaid runs)"] = home_floor(
            root, today, dues="ledger"
        )
    return floor


def home_statement(p: Sql, root, today: date, dues: str) -> tuple[str, str]:
    """The home floor's statement in two pieces, for the floors that include the flags too
    (the flags section of the statistics page, the dashboard): its CTEs (``scope AS (…), …,
    organization_totals AS (…)``, to follow a ``WITH``) and its SELECT of the one row."""
    from django.db import connection

    from dangjian.development import rules as development_rules
    from dangjian.development import steps
    from dangjian.development.models import Outcome
    from dangjian.development.services import DEVELOPING_TYPES
    from dangjian.development.steps import Stage
    from dangjian.dues.flags import last_completed_month
    from dangjian.dues.models import Reduction
    from dangjian.dues.rules import ARREARS_MONTHS, ARREARS_WARNING_MONTHS
    from dangjian.members.choices import ON_ROSTER, Membership, Standing
    from dangjian.members.models import Transfer
    from dangjian.members.rules import (
        BRANCH_COMMITTEE_THRESHOLD,
        BRANCH_MAX_MEMBERS,
        LOST_CONTACT_MONTHS,
    )
    from dangjian.organizations.models import (
        BRANCH_TYPES,
        ORGANIZATION_COVERAGE,
        SIX_HAVES,
        CommitteePost,
        Organization,
        OrgType,
        Sector,
    )
    from dangjian.organizations.rules import (
        BRANCH_MIN_MEMBERS,
        COMMUNITY_PREMISES_MIN_AREA,
        ELECTED_TYPES,
        SECRETARY_REQUIRED_TYPES,
        TERM_WARNING_MONTHS,
        VILLAGE_HOLLOW_INCOME,
    )
    from dangjian.organizations.services import add_months, rulebook_for
    from dangjian.orglife.rules import ABSENCE_WARNING_MONTHS, ABSENT_MONTHS

    unpaid_runs = unpaid_run_table()
    assert dues in ("ledger", "runs") and (dues == "ledger" or unpaid_runs), dues
    rules = rulebook_for(root)
    postgres = connection.vendor == "postgresql"

    def months(rule) -> int:
        return int(rules[rule.key])

    lower, upper = subtree_bounds(root)
    steplen = Organization.steplen
    # The last completed month L and the arrears thresholds: P ≤ m ⟺ nothing paid in
    # (m, L], joined before m + 1, a first base by m + 1, any exemption over by m + 1.
    last = last_completed_month(today)
    arrears_at = add_months(last, -months(ARREARS_MONTHS))
    warning_at = add_months(last, -months(ARREARS_WARNING_MONTHS))

    def unpaid_since_at_most(month) -> str:
        following = add_months(month, 1)
        return (
            f"(d.last_paid IS NULL OR d.last_paid <= {p(month)})"
            f" AND d.joined_on < {p(following)} AND d.first_base <= {p(following)}"
            f" AND (d.exempt_until IS NULL OR d.exempt_until <= {p(following)})"
        )

    # Django compiles Cast(datetime, DateField) and Greatest differently on each database
    # (Greatest is NULL if any argument is on SQLite; PostgreSQL skips NULLs): so does this
    # (the product keeps Greatest's arguments non-NULL, so both give the same counts).
    created_on = "CAST(m.created_at AS date)" if postgres else "date(m.created_at)"
    greatest = "GREATEST" if postgres else "MAX"
    last_seen = f"COALESCE(m.last_participated_on, {created_on})"

    elected = p.many(ELECTED_TYPES)
    branch_types = p.many(BRANCH_TYPES)
    on_roster = p.many(ON_ROSTER)
    normal = p(str(Standing.NORMAL))
    probationary = p(str(Stage.PROBATIONARY))
    is_open = p(str(Outcome.OPEN))
    exempt = p(str(Reduction.EXEMPT))
    six_missing = " OR ".join(f"NOT s.{name}" for name, _label in SIX_HAVES)
    committee_posts = p.many(
        [CommitteePost.ORGANIZATION, CommitteePost.PROPAGANDA, CommitteePost.DISCIPLINE]
    )
    lost_cutoff = p(add_months(today, -months(LOST_CONTACT_MONTHS)))
    absent_cutoff = p(add_months(today, -months(ABSENT_MONTHS)))
    warning_cutoff = p(add_months(today, -months(ABSENCE_WARNING_MONTHS)))
    no_new_cutoff = p(add_months(today, -12 * months(development_rules.NO_NEW_MEMBER_YEARS)))
    lead = months(development_rules.REMINDER_LEAD_MONTHS)
    assessment_cutoff = p(
        add_months(add_months(today, lead), -months(development_rules.ASSESSMENT_INTERVAL_MONTHS))
    )
    type_counts = ",\n        ".join(
        f"SUM(CASE WHEN s.org_type = {p(value)} THEN 1 ELSE 0 END) AS {type_column(value)}"
        for value in OrgType.values
    )
    in_subtree = f"o.path >= {p(lower)} AND o.path < {p(upper)}"
    # The organizations in scope as a plain subquery where only their ids are needed (the
    # planners then know its size; PostgreSQL keeps no statistics on a CTE).
    active_ids = "SELECT o.id FROM organizations_organization o WHERE " + (
        f"{in_subtree} AND o.dissolved_on IS NULL"
    )

    if dues == "runs":
        dues_totals = runs_dues_totals(
            p, unpaid_runs, last, arrears_at, warning_at, normal, active_ids
        )
    else:
        dues_totals = f"""exempt AS (
    SELECT b.member_id, MAX(b.effective_from) AS since
    FROM dues_duesbase b
    WHERE b.reduction = {exempt} AND b.effective_from <= {p(last)}
    GROUP BY b.member_id
),
dues AS MATERIALIZED (
    SELECT m.joined_on,
        (SELECT MAX(pay.month) FROM dues_duespayment pay
            WHERE pay.member_id = m.id AND pay.month <= {p(last)}) AS last_paid,
        (SELECT MIN(b.effective_from) FROM dues_duesbase b
            WHERE b.member_id = m.id) AS first_base,
        e.since AS exempt_since,
        CASE WHEN e.since IS NOT NULL THEN
            (SELECT MIN(b.effective_from) FROM dues_duesbase b
                WHERE b.member_id = m.id AND b.effective_from > e.since
                    AND b.reduction <> {exempt})
        END AS exempt_until
    FROM members_member m
    LEFT JOIN exempt e ON e.member_id = m.id
    WHERE m.standing = {normal} AND m.organization_id IN ({active_ids})
),
dues_totals AS (
    SELECT
        SUM(CASE WHEN {unpaid_since_at_most(arrears_at)} THEN 1 ELSE 0 END) AS dues_arrears,
        SUM(CASE WHEN {unpaid_since_at_most(warning_at)}
            AND NOT ({unpaid_since_at_most(arrears_at)}) THEN 1 ELSE 0 END)
            AS dues_arrears_warning
    FROM dues d
    -- a base, and the base in force at L not an exemption (one begun by L and not ended)
    WHERE d.first_base IS NOT NULL
        AND NOT (d.exempt_since IS NOT NULL
            AND (d.exempt_until IS NULL OR d.exempt_until > {p(last)}))
),
"""

    ctes = f"""scope AS (
    SELECT o.id, o.org_type, o.sector, o.founded_on, o.term_due_on, o.term_started_on,
        o.premises_area, {", ".join(f"o.{name}" for name, _label in SIX_HAVES)},
        (o.depth = 1 OR parent.sector IS NULL OR parent.sector <> o.sector) AS unit_top,
        income.amount AS last_year_income,
        EXISTS (SELECT 1 FROM organizations_committeemember c
            WHERE c.organization_id = o.id AND c.ended_on IS NULL
                AND c.post = {p(str(CommitteePost.SECRETARY))}) AS has_secretary,
        EXISTS (SELECT 1 FROM organizations_committeemember c
            WHERE c.organization_id = o.id AND c.ended_on IS NULL
                AND c.post IN ({committee_posts})) AS has_committee
    FROM organizations_organization o
    LEFT JOIN organizations_organization parent
        ON parent.path = SUBSTR(o.path, 1, LENGTH(o.path) - {steplen})
    LEFT JOIN organizations_villageincome income
        ON income.organization_id = o.id AND income.year = {p(today.year - 1)}
    WHERE {in_subtree} AND o.dissolved_on IS NULL
),
roster AS (
    SELECT m.organization_id,
        SUM(CASE WHEN m.standing IN ({on_roster}) THEN 1 ELSE 0 END) AS on_roster,
        SUM(CASE WHEN m.standing IN ({on_roster}) AND m.membership = {p(str(Membership.FULL))}
            THEN 1 ELSE 0 END) AS full_members,
        MAX(m.joined_on) AS last_joined,
        SUM(CASE WHEN m.standing IN ({on_roster}) AND m.lost_contact_since <= {lost_cutoff}
            THEN 1 ELSE 0 END) AS lost_contact,
        SUM(CASE WHEN m.standing = {p(str(Standing.FLOATING))} THEN 1 ELSE 0 END) AS floating,
        SUM(CASE WHEN m.standing = {normal} AND {last_seen} < {absent_cutoff}
            THEN 1 ELSE 0 END) AS absent,
        SUM(CASE WHEN m.standing = {normal} AND {last_seen} < {warning_cutoff}
            AND {last_seen} >= {absent_cutoff} THEN 1 ELSE 0 END) AS absence_warning
    FROM members_member m
    WHERE m.organization_id IN ({active_ids})
    GROUP BY m.organization_id
),
records AS (
    SELECT r.organization_id,
        MAX(r.admitted_on) AS last_admitted,
        SUM(CASE WHEN r.outcome = {is_open} AND r.step = {p(steps.APPLICATION)}
            THEN 1 ELSE 0 END) AS talk_due,
        SUM(CASE WHEN r.outcome = {is_open}
            AND ((r.stage IN ({p.many([Stage.ACTIVIST, Stage.CANDIDATE])})
                    AND r.step >= {p(steps.ACTIVIST)} AND r.step < {p(steps.ADMISSION_MEETING)})
                OR (r.stage = {probationary} AND r.step < {p(steps.CONVERSION_MEETING)}))
            AND {greatest}(COALESCE(r.last_assessed_on, r.activist_on, r.admitted_on),
                COALESCE(r.admitted_on, r.activist_on, r.last_assessed_on)) <= {assessment_cutoff}
            THEN 1 ELSE 0 END) AS assessment_due,
        SUM(CASE WHEN r.outcome = {is_open} AND r.step >= {p(steps.ADMISSION_MEETING)}
            AND r.step < {p(steps.APPROVAL)} THEN 1 ELSE 0 END) AS approval_pending,
        SUM(CASE WHEN r.outcome = {is_open} AND r.stage = {probationary}
            AND r.step < {p(steps.CONVERSION_MEETING)}
            AND r.probation_ends_on <= {p(add_months(today, lead))}
            THEN 1 ELSE 0 END) AS probation_ending,
        SUM(CASE WHEN r.outcome = {is_open} AND r.step >= {p(steps.CONVERSION_MEETING)}
            AND r.step < {p(steps.CONVERSION_APPROVAL)} THEN 1 ELSE 0 END) AS conversion_pending
    FROM development_developmentrecord r
    WHERE r.organization_id IN ({active_ids})
    GROUP BY r.organization_id
),
{dues_totals}organization_totals AS (
    SELECT
        {type_counts},
        SUM(CASE WHEN s.org_type IN ({elected}) AND s.term_due_on < {p(today)}
            THEN 1 ELSE 0 END) AS term_overdue,
        SUM(CASE WHEN s.org_type IN ({elected}) AND s.term_due_on >= {p(today)}
            AND s.term_due_on <= {p(add_months(today, months(TERM_WARNING_MONTHS)))}
            THEN 1 ELSE 0 END) AS term_due_soon,
        SUM(CASE WHEN s.org_type IN ({elected}) AND s.term_started_on IS NULL
            THEN 1 ELSE 0 END) AS term_unrecorded,
        SUM(CASE WHEN s.org_type IN ({p.many(SECRETARY_REQUIRED_TYPES)}) AND NOT s.has_secretary
            THEN 1 ELSE 0 END) AS secretary_missing,
        SUM(CASE WHEN s.sector = {p(str(Sector.COMMUNITY))} AND s.unit_top
            AND (s.premises_area IS NULL
                OR s.premises_area < {p(rules[COMMUNITY_PREMISES_MIN_AREA.key])})
            THEN 1 ELSE 0 END) AS community_premises_below,
        SUM(CASE WHEN s.sector = {p(str(Sector.VILLAGE))} AND s.unit_top
            AND (s.last_year_income IS NULL
                OR s.last_year_income < {p(rules[VILLAGE_HOLLOW_INCOME.key])})
            THEN 1 ELSE 0 END) AS hollow_village,
        SUM(CASE WHEN (s.org_type IN ({branch_types})
                OR (s.sector IN ({p.many([Sector.VILLAGE, Sector.COMMUNITY])}) AND s.unit_top))
            AND ({six_missing}) THEN 1 ELSE 0 END) AS six_haves_incomplete,
        SUM(CASE WHEN s.org_type IN ({branch_types})
            AND COALESCE(roster.on_roster, 0) > {p(rules[BRANCH_MAX_MEMBERS.key])}
            THEN 1 ELSE 0 END) AS oversized_branch,
        SUM(CASE WHEN s.org_type IN ({branch_types})
            AND COALESCE(roster.full_members, 0) >= {p(rules[BRANCH_COMMITTEE_THRESHOLD.key])}
            AND NOT s.has_committee THEN 1 ELSE 0 END) AS branch_without_committee,
        SUM(CASE WHEN s.org_type IN ({p.many(DEVELOPING_TYPES)})
            AND (s.founded_on IS NULL OR s.founded_on <= {no_new_cutoff})
            AND (roster.last_joined IS NULL OR roster.last_joined < {no_new_cutoff})
            AND (records.last_admitted IS NULL OR records.last_admitted < {no_new_cutoff})
            THEN 1 ELSE 0 END) AS no_new_member,
        SUM(roster.lost_contact) AS lost_contact_member,
        SUM(roster.floating) AS floating_member,
        SUM(roster.absent) AS absent_from_life,
        SUM(roster.absence_warning) AS absence_warning,
        SUM(records.talk_due) AS development_talk_due,
        SUM(records.assessment_due) AS development_assessment_due,
        SUM(records.approval_pending) AS development_approval_pending,
        SUM(records.probation_ending) AS development_probation_ending,
        SUM(records.conversion_pending) AS development_conversion_pending
    FROM scope s
    LEFT JOIN roster ON roster.organization_id = s.id
    LEFT JOIN records ON records.organization_id = s.id
)"""
    select = f"""SELECT organization_totals.*, dues_totals.*,
    (SELECT COUNT(*) FROM organizations_neworganization n
        JOIN organizations_organization o ON o.id = n.area_id
        WHERE {in_subtree} AND n.member_count >= {p(BRANCH_MIN_MEMBERS.default)}
            AND n.coverage NOT IN ({p.many(ORGANIZATION_COVERAGE)})
    ) AS uncovered_new_organization,
    (SELECT COUNT(*) FROM members_transfer t
        WHERE t.status = {p(str(Transfer.Status.ISSUED))} AND t.valid_until < {p(today)}
            AND (t.from_organization_id IN (
                    SELECT o.id FROM organizations_organization o WHERE {in_subtree})
                OR t.to_organization_id IN (
                    SELECT o.id FROM organizations_organization o WHERE {in_subtree}))
    ) AS transfer_expired
FROM organization_totals, dues_totals"""
    return ctes, select


def unpaid_run_table() -> str | None:
    """The table of the unpaid runs the dues services keep, if the product has it."""
    try:
        from dangjian.dues.models import UnpaidRun
    except ImportError:
        return None
    return UnpaidRun._meta.db_table


def runs_dues_totals(
    p: Sql, table: str, last, arrears_at, warning_at, normal: str, active_ids: str
) -> str:
    """Both arrears flags from the unpaid runs: P ≤ m ⟺ joined before m + 1 and the run
    holding L (there is at most one: runs never touch) began by m + 1."""
    from dangjian.organizations.services import add_months

    arrears_by, warning_by = p(add_months(arrears_at, 1)), p(add_months(warning_at, 1))
    arrears = f"m.joined_on < {arrears_by} AND r.first_month <= {arrears_by}"
    warning = f"m.joined_on < {warning_by} AND r.first_month <= {warning_by}"
    return f"""dues_totals AS (
    SELECT
        SUM(CASE WHEN {arrears} THEN 1 ELSE 0 END) AS dues_arrears,
        SUM(CASE WHEN {warning} AND NOT ({arrears}) THEN 1 ELSE 0 END) AS dues_arrears_warning
    FROM {table} r
    JOIN members_member m ON m.id = r.member_id
    WHERE (r.last_month IS NULL OR r.last_month >= {p(last)}) AND r.first_month <= {warning_by}
        AND m.standing = {normal} AND m.organization_id IN ({active_ids})
),
"""


def type_column(value: str) -> str:
    assert value.isidentifier(), value
    return f"type_{value}"


def untype_column(column: str) -> str | None:
    return column[len("type_") :] if column.startswith("type_") else None


# --------------------------------------------------------------------------------------------
# Organization tree: the user's roots, and the first level under the root
# --------------------------------------------------------------------------------------------


def node(organization) -> tuple:
    return (organization.id, organization.name, organization.org_type, organization.numchild)


def tree_root_floor(user) -> Floor:
    """``/orgs/tree/``: the top organizations of the user's scope (the active organizations
    of their grants that lie under no other of their grants), with their number of children
    (which decides whether the node can be opened)."""
    from dangjian.accounts.roles import ROLE_PERMISSIONS, Perm
    from dangjian.accounts.scope import scope_roots

    assert not user.is_superuser, "the benchmark user has a scope"
    p = Sql()
    roles = [role for role, perms in ROLE_PERMISSIONS.items() if Perm.VIEW_ORGANIZATION in perms]
    sql = f"""
WITH granted AS (
    SELECT g_o.path FROM accounts_rolegrant g
    JOIN organizations_organization g_o ON g_o.id = g.organization_id
    WHERE g.user_id = {p(user.pk)} AND g.role IN ({p.many(roles)}) AND g_o.dissolved_on IS NULL
)
SELECT o.id, o.name, o.org_type, o.numchild
FROM organizations_organization o
WHERE o.dissolved_on IS NULL AND o.path IN (
    SELECT granted.path FROM granted
    WHERE NOT EXISTS (SELECT 1 FROM granted above
        WHERE above.path < granted.path
            AND SUBSTR(granted.path, 1, LENGTH(above.path)) = above.path))
ORDER BY o.path"""
    return Floor(
        sql,
        p.params,
        lambda rows, _d: [tuple(r) for r in rows],
        lambda: [node(o) for o in scope_roots(user)],
    )


def tree_children_floor(root) -> Floor:
    """``/orgs/<root>/children/`` (the htmx request that opens the root): the active
    children of the root, in tree order, with their number of children."""
    from dangjian.organizations.models import Organization

    p = Sql()
    lower, upper = subtree_bounds(root)
    sql = f"""
SELECT o.id, o.name, o.org_type, o.numchild
FROM organizations_organization o
WHERE o.path > {p(lower)} AND o.path < {p(upper)} AND o.depth = {p(root.depth + 1)}
    AND o.dissolved_on IS NULL
ORDER BY o.path"""
    return Floor(
        sql,
        p.params,
        lambda rows, _d: [tuple(r) for r in rows],
        lambda: [node(o) for o in Organization.objects.get_children(root).active()],
    )


# --------------------------------------------------------------------------------------------
# Roster: the first page of the whole city (keyset, default sort)
# --------------------------------------------------------------------------------------------


def roster_floor(root, user) -> Floor:
    """``/members/``: the first 50 members on the roster of the user's scope (the root's
    subtree) by name then id, with what the page shows of each (the ID number and phone
    as stored: the page decrypts and masks them), and whether there is a next page."""
    from django.utils import timezone

    from dangjian.members.choices import ON_ROSTER
    from dangjian.members.models import Member
    from dangjian.members.roster import PAGE_SIZE, filter_roster, keyset_page

    p = Sql()
    lower, upper = subtree_bounds(root)
    # "+m.organization_id" keeps SQLite from driving the query by organization, which sorts
    # the whole city to keep 51 rows: it walks the (name, id) index and stops at 51 (1 ms
    # instead of 20). PostgreSQL plans it the same either way.
    sql = f"""
SELECT m.id, m.name, m.gender, m.birth_date, m.joined_on, m.membership, m.standing,
    o.name, m.id_number, m.phone
FROM members_member m
JOIN organizations_organization o ON o.id = +m.organization_id
WHERE o.path >= {p(lower)} AND o.path < {p(upper)} AND m.standing IN ({p.many(ON_ROSTER)})
ORDER BY m.name, m.id
LIMIT {p(PAGE_SIZE + 1)}"""

    def shown(rows) -> list[tuple]:
        return [tuple(r[:8]) for r in rows]

    def numbers(rows, _description):
        return {"rows": shown(rows[:PAGE_SIZE]), "more": len(rows) > PAGE_SIZE}

    def product():
        members = filter_roster(
            Member.objects.for_user(user), {"descendants": True}, None, timezone.localdate()
        )
        page = keyset_page(members, "name", None)
        rows = [
            (
                m.id,
                m.name,
                m.gender,
                m.birth_date,
                m.joined_on,
                m.membership,
                m.standing,
                m.organization.name,
            )
            for m in page.rows
        ]
        return {"rows": rows, "more": page.next_cursor is not None}

    floor = Floor(sql, p.params, numbers, product)
    return floor


# --------------------------------------------------------------------------------------------
# Compliance matrix (organizational life) of the root: benchmarks/compliance.py's floor
# --------------------------------------------------------------------------------------------


def compliance_floor(root, today: date | None = None) -> Floor:
    """``/life/org/<root>/compliance/``: the floor of ``benchmarks/compliance.py`` (every
    (organization, requirement) owed in the subtree this year: periods met, overdue, and
    whether the running one is still due), compared with ``compute()`` as the page calls it.
    The page shows these cells summed by the root's children; the floor returns the cells."""
    from django.utils import timezone

    from benchmarks.compliance import engine_numbers, floor_sql
    from dangjian.organizations.models import Organization
    from dangjian.orglife.compliance import Window, compute
    from dangjian.orglife.requirements import requirements_for_organization

    today = today or timezone.localdate()
    window = Window(today.year, today)  # the page's default: this year, whole
    requirements = requirements_for_organization(root)
    sql, params = floor_sql(root, window, requirements)
    return Floor(
        sql,
        params,
        lambda rows, _d: {(o, k): (met, over, due) for o, k, met, over, due in rows},
        lambda: engine_numbers(compute(Organization.objects.within(root), window, requirements)),
    )


# --------------------------------------------------------------------------------------------
# Statistics page and dashboard of the root (dangjian/reports)
# --------------------------------------------------------------------------------------------
#
# ``benchmarks/pages.py`` times ``/reports/org/<pk>/statistics/`` (each section,
# ``?section=<key>``) and ``/reports/org/<pk>/dashboard/`` (the page with the panels it loads,
# and each panel, ``dashboard/<key>/``), for the default period (this year, whole). Their
# floors are one statement per section, per panel and for the whole dashboard, returning every
# cell of the tables behind it in long form, one row a cell:
#
#     (table, row's organization path — NULL for the total row —, is_self, column, value, scale)
#
# with money in whole fen (scale 2) and percentages in tenths (scale 1: the rates, to 0.1 %
# half up, computed in integers), so that every number is an integer on both databases and
# compares exactly with the product's Decimals. The long form lets the statements of several
# sections compose: a section is a :class:`Part` (its CTEs and its SELECTs), and the whole
# dashboard is the union of its panels' parts, one statement. Each source is read once: one
# aggregate CTE grouped by the root's child (members, organizations, meetings, compliance
# cells, development records, payments, the month's owing members), one CTE of its rows (the
# root's own, the children, the total) for all the tables it feeds, one SELECT of their cells.
#
# The product side builds the same tables with the section's own ``build``
# (``dangjian.reports.statistics``) and reads every cell of every row (keyed by the row's
# organization path and ``is_self``) and of the total row; the shares shown next to counts
# (``Table.share``) are derived from the counts and left out. A panel's product side is the
# tables of its section it reads. The flags section is the home floor's statement
# (``home_statement``), its flag counts one cell each; the compliance table follows
# ``compliance_floor`` (benchmarks/compliance.py) cell by cell, then sums by child.

# The tables of each section (dangjian/reports/statistics.py SECTIONS; the product side
# takes every table the section builds, so a table added there and not here is a mismatch).
SECTION_TABLES: dict[str, tuple[str, ...]] = {
    "members": (
        "gender",
        "age",
        "ethnicity",
        "minorities",
        "education",
        "occupation",
        "party_age",
        "category",
        "status",
    ),
    "organizations": ("org_types", "sectors", "terms", "coverage"),
    "life": ("meetings", "compliance"),
    "development": ("development",),
    "dues": ("dues", "dues_month"),
    "flags": ("flags",),
}
# The tables each dashboard panel reads (dangjian/reports/dashboard.py PANELS): the section of
# the same name's, less the ethnicity tables for the members panel (it charts the others'
# totals), the coverage table for the organizations panel, the period's payments for the dues
# panel (it shows the last month's collection).
PANEL_TABLES: dict[str, tuple[str, ...]] = {
    **SECTION_TABLES,
    "members": tuple(t for t in SECTION_TABLES["members"] if t not in ("ethnicity", "minorities")),
    "organizations": ("org_types", "sectors", "terms"),
    "dues": ("dues_month",),
}

CellKey = tuple[str, str | None, bool, str]  # (table, row's path or None: total, is_self, column)


@dataclass
class Part:
    """A piece of a long-form statement: CTEs (name → ``name AS (…)``, in the order they
    must be defined) and SELECTs of cells, to be joined by UNION ALL."""

    ctes: dict[str, str] = field(default_factory=dict)
    selects: list[str] = field(default_factory=list)


@dataclass
class ChildTable:
    """A table laid out by child (see ``ReportStatement.child_rows``): its columns (key, the
    count's column, scale), other counts that make a row non-empty (its base, e.g. the
    ``total`` a table may not show), and cells computed from a row's counts (key,
    expression, scale), after the total row is summed."""

    table: str
    columns: list[tuple[str, str, int]]
    hidden: tuple[str, ...] = ()
    derived: tuple[tuple[str, str, int], ...] = ()


def compose(parts: list[Part]) -> str:
    ctes: dict[str, str] = {}
    selects: list[str] = []
    for part in parts:
        for name, text in part.ctes.items():
            assert ctes.setdefault(name, text) == text, f"two CTEs named {name}"
        selects += part.selects
    return "WITH " + ",\n".join(ctes.values()) + "\n" + "\nUNION ALL\n".join(selects)


def label(text: str) -> str:
    """A table's or column's key as an SQL string literal (keys are labels, not values)."""
    assert "'" not in text and "%" not in text, text
    return f"'{text}'"


def cell_numbers(rows, _description) -> dict[CellKey, object]:
    numbers: dict[CellKey, object] = {}
    for table, path, is_self, column, value, scale in rows:
        key = (table, path, bool(is_self), column)
        assert key not in numbers, f"two cells {key}"
        if value is None:
            numbers[key] = None
        elif scale:
            numbers[key] = Decimal(int(value)).scaleb(-int(scale))
        else:
            numbers[key] = int(value)
    return numbers


def table_cells(tables) -> dict[CellKey, object]:
    """Every cell of ``tables`` (dangjian.reports.tables.Table): each row's value of each
    column (a column a row has no value for shows 0), and the total row's."""
    numbers: dict[CellKey, object] = {}
    for table in tables:
        for row in table.rows:
            # a coverage row of an area no organization has: keyed by its path, its label
            path = row.organization.path if row.organization is not None else row.label
            for column in table.columns:
                numbers[(table.key, path, row.is_self, column.key)] = row.get(column.key)
        for column in table.columns:
            numbers[(table.key, None, False, column.key)] = table.total.get(column.key)
    return numbers


def report_product(root, period, today: date, wanted: dict[str, tuple[str, ...] | None]):
    """The cells of the tables ``wanted`` ({section: table keys, None: all}) as the
    sections' own ``build`` makes them for ``root``."""
    from dangjian.reports.statistics import SECTION_BY_KEY

    numbers: dict[CellKey, object] = {}
    for section, keys in wanted.items():
        tables = SECTION_BY_KEY[section].build(root, period, today)
        if keys is not None:
            missing = set(keys) - {t.key for t in tables}
            if missing:
                raise FloorMismatch(f"section {section!r} builds no table {sorted(missing)}")
            tables = [t for t in tables if t.key in keys]
        numbers.update(table_cells(tables))
    return numbers


class ReportStatement:
    """The parts of the statistics floors for ``root``, ``period`` and ``today``, sharing one
    set of parameters ``p``.

    Each child-rows table is read as the product lays it out (dangjian/reports/tables.py
    ``child_rows`` / ``total_row``): its counts grouped by the child of the root each record's
    organization lies under (the first steps of its path: the root's own records fall under
    the root's path), then a row for the root's own records when any is non-zero, one per
    child (not a 党小组) that is active or has a non-zero count, and the total: the sum over
    every group."""

    def __init__(self, p: Sql, root, today: date, period, dues: str, bases: str):
        from dangjian.organizations.models import Organization

        assert bases in ("until", "ledger"), bases
        self.p, self.root, self.today, self.period = p, root, today, period
        self.dues, self.bases = dues, bases
        self.lower, self.upper = subtree_bounds(root)
        self.prefix = len(root.path) + Organization.steplen
        self.depth = root.depth

    # ---- shared pieces ----------------------------------------------------------------------

    def in_subtree(self, alias: str = "o") -> str:
        p = self.p
        return f"{alias}.path >= {p(self.lower)} AND {alias}.path < {p(self.upper)}"

    def child(self, alias: str = "o") -> str:
        """The path of the root's child that ``alias``'s organization lies under (or the
        root's own path)."""
        return f"SUBSTR({alias}.path, 1, {int(self.prefix)})"

    def children(self) -> dict[str, str]:
        p = self.p
        return {
            "report_children": f"""report_children AS (
    SELECT o.path, o.org_type, o.dissolved_on FROM organizations_organization o
    WHERE o.path > {p(self.lower)} AND o.path < {p(self.upper)}
        AND o.depth = {p(self.depth + 1)}
)"""
        }

    def child_rows(
        self, part: Part, counts: str, tables: list[ChildTable], include_groups: bool = False
    ) -> None:
        """Add the cells of ``tables`` to ``part``, all read from the CTE ``counts`` (a
        ``child`` column and the counts): one CTE of the rows (the root's own, each child, the
        total) with every table's columns and whether the row is one of that table's, then
        one SELECT of the cells."""
        from dangjian.organizations.models import OrgType

        p = self.p
        names = list(dict.fromkeys(name for t in tables for _key, name, _scale in t.columns))

        def nonzero(t: ChildTable) -> str:
            counted = dict.fromkeys([*(name for _k, name, _s in t.columns), *t.hidden])
            return "(" + " OR ".join(f"g.{name} <> 0" for name in counted) + ")"

        values = ", ".join(f"CAST(COALESCE(g.{name}, 0) AS BIGINT) AS {name}" for name in names)
        sums = ", ".join(f"CAST(COALESCE(SUM(g.{name}), 0) AS BIGINT)" for name in names)
        # a child's row: active, or with a non-zero count (NULL counts: none recorded)
        child_shown = ", ".join(
            f"CASE WHEN c.dissolved_on IS NULL OR {nonzero(t)} THEN 1 ELSE 0 END AS shown_{i}"
            for i, t in enumerate(tables)
        )
        own_shown = ", ".join(f"CASE WHEN {nonzero(t)} THEN 1 ELSE 0 END" for t in tables)
        groups = "" if include_groups else f"\n    WHERE c.org_type <> {p(str(OrgType.GROUP))}"
        part.ctes.update(self.children())
        part.ctes[f"{counts}_rows"] = f"""{counts}_rows AS MATERIALIZED (
    SELECT c.path, 0 AS is_self, {values},
        {child_shown}
    FROM report_children c
    LEFT JOIN {counts} g ON g.child = c.path{groups}
    UNION ALL
    SELECT g.child, 1, {values}, {own_shown}
    FROM {counts} g WHERE g.child = {p(self.root.path)}
    UNION ALL
    SELECT NULL, 0, {sums}, {", ".join("1" for _t in tables)}
    FROM {counts} g
)"""
        cells = [
            (t.table, key, expression, scale)
            for t in tables
            for key, expression, scale in [*t.columns, *t.derived]
        ]
        shown = " ".join(f"WHEN {label(t.table)} THEN r.shown_{i}" for i, t in enumerate(tables))
        self.unpivot(
            part, counts, f"{counts}_rows r", cells, where=f"CASE k.cell_table {shown} END = 1"
        )

    def unpivot(
        self,
        part: Part,
        name: str,
        source: str,
        cells: list[tuple[str, str, str, int]],
        path: str = "path",
        is_self: str = "is_self",
        where: str = "",
    ) -> None:
        """One SELECT of cells (table, column's key, value's expression, scale): each row of
        ``source`` times the columns (a VALUES list), the value picked by a CASE — one scan,
        not one per column (fewer plan nodes: less to plan, and to compile where PostgreSQL's
        JIT does)."""
        columns = f"{name}_columns"
        part.ctes[columns] = (
            f"{columns} (cell_table, cell_i, cell_key, cell_scale) AS (VALUES "
            + ", ".join(
                f"({label(table)}, {i}, {label(key)}, {int(scale)})"
                for i, (table, key, _e, scale) in enumerate(cells)
            )
            + ")"
        )
        value = " ".join(
            f"WHEN {i} THEN {expression}" for i, (_t, _k, expression, _s) in enumerate(cells)
        )
        part.selects.append(
            f"SELECT k.cell_table, {path}, {is_self}, k.cell_key, CASE k.cell_i {value} END,"
            f" k.cell_scale FROM {source} CROSS JOIN {columns} k"
            + (f" WHERE {where}" if where else "")
        )

    # ---- members ----------------------------------------------------------------------------

    def members(self, tables: tuple[str, ...]) -> Part:
        """One pass over the members on the roster of the subtree (normal, floating, lost
        contact), grouped by child: every bucket of every dimension as a conditional count,
        ages and 党龄 on today (党龄 from becoming a full member, or joining where a record
        lacks the date). For the minorities' table (one row: the subtree), one more over its
        minority members, grouped by ethnicity."""
        from dangjian.members.choices import (
            ETHNICITIES,
            ON_ROSTER,
            Category,
            Education,
            Gender,
            Membership,
            Occupation,
        )
        from dangjian.members.roster import (
            AGE_BANDS,
            COLLEGE_OR_ABOVE,
            HAN,
            PARTY_AGE_BANDS,
            years_before,
        )

        p, today = self.p, self.today

        def band(column: str, key: str) -> str:
            # "31-40": born (or a full member) at least 31 and less than 41 years ago
            low, _, high = key.partition("-")
            conditions = []
            if low:
                conditions.append(f"{column} <= {p(years_before(today, int(low)))}")
            if high:
                conditions.append(f"{column} > {p(years_before(today, int(high) + 1))}")
            return " AND ".join(conditions)

        full = f"m.membership = {p(str(Membership.FULL))}"
        party_since = "COALESCE(m.full_member_on, m.joined_on)"  # 党龄 from becoming full
        buckets: dict[str, list[tuple[str, str]]] = {
            "gender": [(v, f"m.gender = {p(v)}") for v in Gender.values],
            "age": [(f"age{k}", band("m.birth_date", k)) for k, _label in AGE_BANDS],
            "ethnicity": [
                ("han", f"m.ethnicity = {p(HAN)}"),
                ("minority", f"m.ethnicity <> {p(HAN)}"),
            ],
            "education": [(v, f"m.education = {p(v)}") for v in Education.values]
            + [("college_or_above", f"m.education IN ({p.many(COLLEGE_OR_ABOVE)})")],
            "occupation": [(v, f"m.occupation = {p(v)}") for v in Occupation.values],
            "party_age": [
                (f"y{k}", f"{full} AND {band(party_since, k)}") for k, _label in PARTY_AGE_BANDS
            ]
            + [("probationary", f"m.membership = {p(str(Membership.PROBATIONARY))}")],
            "category": [(v, f"m.category = {p(v)}") for v in Category.values],
            "status": [(v, f"m.membership = {p(v)}") for v in Membership.values]
            + [(str(v), f"m.standing = {p(str(v))}") for v in ON_ROSTER],
        }
        wanted = [t for t in buckets if t in tables]
        columns = {t: [(k, f"{t}_{i}", c) for i, (k, c) in enumerate(buckets[t])] for t in wanted}
        counts = ",\n        ".join(
            f"COUNT(*) FILTER (WHERE {condition}) AS {name}"
            for t in wanted
            for _key, name, condition in columns[t]
        )
        roster = f"""FROM members_member m
    JOIN organizations_organization o ON o.id = m.organization_id
    WHERE {self.in_subtree()} AND m.standing IN ({p.many(ON_ROSTER)})"""
        part = Part()
        part.ctes["member_counts"] = f"""member_counts AS MATERIALIZED (
    SELECT {self.child()} AS child, COUNT(*) AS total,
        {counts}
    {roster}
    GROUP BY {self.child()}
)"""
        self.child_rows(
            part,
            "member_counts",
            [
                ChildTable(t, [("total", "total", 0)] + [(k, n, 0) for k, n, _c in columns[t]])
                for t in wanted
            ],
        )
        if "minorities" in tables:
            names = [e for e in ETHNICITIES if e != HAN]
            part.ctes["minority_counts"] = f"""minority_counts AS MATERIALIZED (
    SELECT m.ethnicity, COUNT(*) AS n
    {roster} AND m.ethnicity <> {p(HAN)}
    GROUP BY m.ethnicity
)"""
            part.ctes["minority_names"] = (
                "minority_names (ethnicity) AS (VALUES "
                + ", ".join(f"({p(name)})" for name in names)
                + ")"
            )
            part.selects.append(
                "SELECT 'minorities', NULL, 0, 'minority', CAST(COALESCE(SUM(n), 0) AS BIGINT), 0"
                " FROM minority_counts"
            )
            part.selects.append(
                "SELECT 'minorities', NULL, 0, k.ethnicity, CAST(COALESCE(c.n, 0) AS BIGINT), 0"
                " FROM minority_names k LEFT JOIN minority_counts c ON c.ethnicity = k.ethnicity"
            )
        return part

    # ---- organizations ----------------------------------------------------------------------

    def organizations(self, tables: tuple[str, ...]) -> Part:
        """One pass over the active organizations of the subtree, by child: by type, by
        sector (党小组 apart), the terms and secretaries as the flags of the same names count
        them; and the coverage register, by child area and category."""
        from dangjian.organizations.models import CommitteePost, OrgType, Sector
        from dangjian.organizations.rules import (
            ELECTED_TYPES,
            SECRETARY_REQUIRED_TYPES,
            TERM_WARNING_MONTHS,
        )
        from dangjian.organizations.services import add_months, rulebook_for

        p, today = self.p, self.today
        rules = rulebook_for(self.root)
        horizon = add_months(today, int(rules[TERM_WARNING_MONTHS.key]))
        group = p(str(OrgType.GROUP))
        elected = f"o.org_type IN ({p.many(ELECTED_TYPES)})"
        needs_secretary = f"o.org_type IN ({p.many(SECRETARY_REQUIRED_TYPES)})"
        types = [v for v in OrgType.values if v != OrgType.GROUP] + [str(OrgType.GROUP)]
        buckets: dict[str, list[tuple[str, str]]] = {
            "org_types": [(v, f"o.org_type = {p(v)}") for v in types],
            "sectors": [(v, f"o.org_type <> {group} AND o.sector = {p(v)}") for v in Sector.values],
            "terms": [
                ("elected", elected),
                ("term_recorded", f"{elected} AND o.term_started_on IS NOT NULL"),
                ("term_overdue", f"{elected} AND o.term_due_on < {p(today)}"),
                (
                    "term_due_soon",
                    f"{elected} AND o.term_due_on >= {p(today)} AND o.term_due_on <= {p(horizon)}",
                ),
                ("term_unrecorded", f"{elected} AND o.term_started_on IS NULL"),
                ("needs_secretary", needs_secretary),
                ("secretary_missing", f"{needs_secretary} AND secretary.organization_id IS NULL"),
            ],
        }
        wanted = [t for t in buckets if t in tables]
        part = Part()
        if wanted:
            columns = {
                t: [(k, f"{t}_{i}", c) for i, (k, c) in enumerate(buckets[t])] for t in wanted
            }
            counts = ",\n        ".join(
                f"COUNT(*) FILTER (WHERE {condition}) AS {name}"
                for t in wanted
                for _key, name, condition in columns[t]
            )
            part.ctes["organization_counts"] = f"""organization_counts AS MATERIALIZED (
    SELECT {self.child()} AS child,
        COUNT(*) FILTER (WHERE o.org_type <> {group}) AS total,
        {counts}
    FROM organizations_organization o
    -- the organizations with a secretary in office
    LEFT JOIN (SELECT DISTINCT c.organization_id FROM organizations_committeemember c
        WHERE c.post = {p(str(CommitteePost.SECRETARY))} AND c.ended_on IS NULL) secretary
        ON secretary.organization_id = o.id
    WHERE {self.in_subtree()} AND o.dissolved_on IS NULL
    GROUP BY {self.child()}
)"""
            child_tables = []
            for t in wanted:
                cells = [(k, name, 0) for k, name, _c in columns[t]]
                if t != "terms":  # the terms table has no total column, only its rows do
                    cells.insert(0, ("total", "total", 0))
                child_tables.append(ChildTable(t, cells, hidden=("total",)))
            self.child_rows(part, "organization_counts", child_tables)
        if "coverage" in tables:
            self.coverage(part, rules)
        return part

    def coverage(self, part: Part, rules) -> None:
        """The coverage register of the subtree (dissolved areas included), by the child its
        area lies under and category: entries, and those with a party organization (单独或联合
        组建); a row per child area with entries (the root's own among them), every category
        in each, the rate (covered over entries, to 0.1 %, half up) and the target in force."""
        from dangjian.organizations.models import ORGANIZATION_COVERAGE, NewOrgCategory
        from dangjian.organizations.rules import COVERAGE_TARGETS

        p = self.p

        def hundredths(value) -> str:
            if value is None:
                return "NULL"
            scaled = Decimal(value) * 100
            assert scaled == scaled.to_integral_value(), value
            return p(int(scaled))

        part.ctes["coverage_counts"] = f"""coverage_counts AS MATERIALIZED (
    SELECT {self.child("a")} AS child, n.category, COUNT(*) AS total,
        COUNT(*) FILTER (WHERE n.coverage IN ({p.many(ORGANIZATION_COVERAGE)})) AS covered
    FROM organizations_neworganization n
    JOIN organizations_organization a ON a.id = n.area_id
    WHERE {self.in_subtree("a")}
    GROUP BY {self.child("a")}, n.category
)"""
        targets = ", ".join(
            f"({p(category)}, {hundredths(rules[COVERAGE_TARGETS[category].key])})"
            for category in NewOrgCategory.values
        )
        part.ctes["coverage_categories"] = (
            f"coverage_categories (category, target) AS (VALUES {targets})"
        )
        part.ctes["coverage_rows"] = f"""coverage_rows AS MATERIALIZED (
    SELECT r.child AS path, CASE WHEN r.child = {p(self.root.path)} THEN 1 ELSE 0 END AS is_self,
        k.category, k.target, CAST(COALESCE(c.total, 0) AS BIGINT) AS total,
        CAST(COALESCE(c.covered, 0) AS BIGINT) AS covered
    FROM (SELECT DISTINCT child FROM coverage_counts) r
    CROSS JOIN coverage_categories k
    LEFT JOIN coverage_counts c ON c.child = r.child AND c.category = k.category
    UNION ALL
    SELECT NULL, 0, k.category, k.target, CAST(COALESCE(SUM(c.total), 0) AS BIGINT),
        CAST(COALESCE(SUM(c.covered), 0) AS BIGINT)
    FROM coverage_categories k
    LEFT JOIN coverage_counts c ON c.category = k.category
    GROUP BY k.category, k.target
)"""
        for suffix, expression, scale in (
            ("total", "total", 0),
            ("covered", "covered", 0),
            ("rate", "CASE WHEN total > 0 THEN (covered * 2000 + total) / (2 * total) END", 1),
            ("target", "target", 2),
        ):
            part.selects.append(
                f"SELECT 'coverage', path, is_self, category || {label('_' + suffix)},"
                f" {expression}, {scale} FROM coverage_rows"
            )

    # ---- organizational life ----------------------------------------------------------------

    def life(self, tables: tuple[str, ...]) -> Part:
        """One pass over the meetings of the subtree recorded as held in the period's year,
        by organization and kind (``life_held``): those dated in the period, for the meetings
        table, and the qualifying ones (a 支委会 with its quorum) month by month, for the
        compliance table."""
        from dangjian.orglife.choices import MeetingStatus
        from dangjian.orglife.compliance import month_start
        from dangjian.orglife.requirements import requirements_for_organization

        p, period = self.p, self.period
        requirements = [r for r in requirements_for_organization(self.root) if r.enabled]
        year = period.year
        counts = []
        if "meetings" in tables:
            counts.append(
                f"COUNT(*) FILTER (WHERE mt.date >= {p(period.start)}"
                f" AND mt.date <= {p(period.end)}) AS held"
            )
        if "compliance" in tables:
            quorum = "".join(
                f" AND (mt.kind <> {p(r.kind)}"
                f" OR mt.present_count * 100 > mt.expected_count * {p(r.quorum_percent)})"
                for r in requirements
                if r.quorum_percent
            )
            counts += [
                f"COUNT(*) FILTER (WHERE mt.date >= {p(month_start(year, n))}"
                f" AND mt.date < {p(month_start(year, n + 1))}{quorum}) AS m{n}"
                for n in range(1, 13)
            ]
        aggregates = ",\n        ".join(counts)
        part = Part()
        part.ctes["life_held"] = f"""life_held AS MATERIALIZED (
    SELECT mt.organization_id, mt.kind,
        {aggregates}
    FROM orglife_meeting mt
    WHERE mt.status = {p(str(MeetingStatus.HELD))}
        AND mt.date >= {p(month_start(year, 1))} AND mt.date < {p(month_start(year + 1, 1))}
        AND mt.organization_id IN (
            SELECT o.id FROM organizations_organization o WHERE {self.in_subtree()})
    GROUP BY mt.organization_id, mt.kind
)"""
        if "meetings" in tables:
            self.meetings(part)
        if "compliance" in tables:
            self.compliance(part, requirements)
        return part

    def meetings(self, part: Part) -> None:
        """Meetings held in the period, by child and kind."""
        from dangjian.orglife.choices import MeetingKind

        p = self.p
        kinds = [(v, f"meetings_{i}") for i, v in enumerate(MeetingKind.values)]
        counts = ",\n        ".join(
            f"SUM(h.held) FILTER (WHERE h.kind = {p(v)}) AS {name}" for v, name in kinds
        )
        part.ctes["meeting_counts"] = f"""meeting_counts AS MATERIALIZED (
    SELECT {self.child()} AS child, SUM(h.held) AS total,
        {counts}
    FROM life_held h
    JOIN organizations_organization o ON o.id = h.organization_id
    GROUP BY {self.child()}
)"""
        columns = [("total", "total", 0)] + [(v, name, 0) for v, name in kinds]
        self.child_rows(part, "meeting_counts", [ChildTable("meetings", columns)])

    def compliance(self, part: Part, requirements) -> None:
        """The compliance table: per (organization, requirement) of the subtree, the periods
        of the window (the period's months of its year) that have ended and were owed, and of
        them those short of the minimum — as ``compliance_floor`` (benchmarks/compliance.py)
        finds them: the qualifying meetings counted by month in one pass, a period owed when
        the organization had been founded by its first day, was not dissolved before its end
        and, for the 支委会, had a committee during it. Then by child: organizations owing any
        ended period, periods owed, met (owed less missed) and missed. The qualifying
        meetings by month are ``life_held``'s."""
        from dangjian.orglife.compliance import (
            COMMITTEE_POSTS,
            FAR_FUTURE,
            FAR_PAST,
            Window,
            month_start,
        )

        p, period = self.p, self.period
        window = Window(period.year, self.today, period.first_month, period.last_month)
        year = window.year

        def owed(r, slot) -> str:
            start, end = p(window.slot_start(r, slot)), p(window.slot_end(r, slot))
            condition = (
                f"(w.founded_on IS NULL OR w.founded_on <= {start})"
                f" AND (w.dissolved_on IS NULL OR w.dissolved_on >= {end})"
            )
            if r.needs_committee:
                condition += f" AND w.since < {end} AND w.until > {start}"
            return f"({condition})"

        def reached(r, slot) -> str:
            first, last = r.slot_months(slot)
            total = " + ".join(f"COALESCE(h.m{n}, 0)" for n in range(first, last + 1))
            return f"{total} >= {p(r.minimum)}"

        selects = []
        for r in requirements:
            _in_window, elapsed, _current = window.masks(r)
            ended = [s for s in window.slots(r) if elapsed >> s & 1]
            if not ended:
                continue
            owed_count = " + ".join(f"CASE WHEN {owed(r, s)} THEN 1 ELSE 0 END" for s in ended)
            missed = " + ".join(
                f"CASE WHEN {owed(r, s)} AND NOT ({reached(r, s)}) THEN 1 ELSE 0 END" for s in ended
            )
            selects.append(f"""SELECT w.org_id, w.path,
        {owed_count} AS owed,
        {missed} AS missed
    FROM compliance_owing w
    LEFT JOIN life_held h ON h.kind = w.kind AND h.organization_id = w.org_id
    WHERE w.kind = {p(r.kind)} AND ({" OR ".join(owed(r, s) for s in ended)})""")
        if not selects:  # nothing has ended yet (the first days of the year)
            selects.append(
                "SELECT NULL AS org_id, NULL AS path, 0 AS owed, 0 AS missed WHERE 1 = 0"
            )
        types = ", ".join(f"({p(r.kind)}, {p(str(t))})" for r in requirements for t in r.org_types)
        part.ctes["compliance_committee"] = f"""compliance_committee AS (
    SELECT organization_id,
        MIN(COALESCE(started_on, {p(FAR_PAST)})) AS since,
        MAX(COALESCE(ended_on, {p(FAR_FUTURE)})) AS until
    FROM organizations_committeemember
    WHERE post IN ({p.many(COMMITTEE_POSTS)})
    GROUP BY organization_id
)"""
        part.ctes["compliance_types"] = f"compliance_types (kind, org_type) AS (VALUES {types})"
        window_start = p(month_start(year, window.first_month))
        part.ctes["compliance_owing"] = f"""compliance_owing AS MATERIALIZED (
    SELECT o.id AS org_id, o.path, o.founded_on, o.dissolved_on, t.kind, c.since, c.until
    FROM organizations_organization o
    JOIN compliance_types t ON t.org_type = o.org_type
    LEFT JOIN compliance_committee c ON c.organization_id = o.id
    WHERE {self.in_subtree()} AND (o.dissolved_on IS NULL OR o.dissolved_on > {window_start})
)"""
        part.ctes["compliance_cells"] = (
            "compliance_cells AS (\n    " + "\n    UNION ALL\n    ".join(selects) + "\n)"
        )
        part.ctes["compliance_counts"] = f"""compliance_counts AS MATERIALIZED (
    SELECT {self.child("x")} AS child,
        COUNT(DISTINCT CASE WHEN x.owed > 0 THEN x.org_id END) AS orgs,
        SUM(x.owed) AS owed, SUM(x.owed) - SUM(x.missed) AS met, SUM(x.missed) AS missed
    FROM compliance_cells x
    GROUP BY {self.child("x")}
)"""
        columns = [(k, k, 0) for k in ("orgs", "owed", "met", "missed")]
        self.child_rows(part, "compliance_counts", [ChildTable("compliance", columns)])

    # ---- development ------------------------------------------------------------------------

    def development(self, tables: tuple[str, ...]) -> Part:
        """The development records of the subtree (any outcome), by child: the steps dated in
        the period, and the open records by stage now."""
        from dangjian.development.models import Outcome
        from dangjian.development.steps import Stage
        from dangjian.reports.activity import OPEN_STAGES

        p = self.p
        start, end = p(self.period.start), p(self.period.end)

        def dated(column: str) -> str:
            return f"r.{column} >= {start} AND r.{column} <= {end}"

        buckets = [
            ("applied", dated("applied_on")),
            ("activists", dated("activist_on")),
            ("candidates", dated("candidate_on")),
            ("admitted", dated("admitted_on")),
            ("converted", f"{dated('converted_on')} AND r.stage = {p(str(Stage.FULL))}"),
        ] + [
            (f"open_{stage}", f"r.outcome = {p(str(Outcome.OPEN))} AND r.stage = {p(str(stage))}")
            for stage in OPEN_STAGES
        ]
        names = [(k, f"development_{i}", c) for i, (k, c) in enumerate(buckets)]
        counts = ",\n        ".join(
            f"COUNT(*) FILTER (WHERE {condition}) AS {name}" for _k, name, condition in names
        )
        part = Part()
        part.ctes["development_counts"] = f"""development_counts AS MATERIALIZED (
    SELECT {self.child()} AS child,
        {counts}
    FROM development_developmentrecord r
    JOIN organizations_organization o ON o.id = r.organization_id
    WHERE {self.in_subtree()}
    GROUP BY {self.child()}
)"""
        columns = [(k, n, 0) for k, n, _c in names]
        self.child_rows(part, "development_counts", [ChildTable("development", columns)])
        return part

    # ---- dues -------------------------------------------------------------------------------

    def dues_part(self, tables: tuple[str, ...]) -> Part:
        part = Part()
        if "dues" in tables:
            self.dues_paid(part)
        if "dues_month" in tables:
            self.dues_month(part)
        return part

    @staticmethod
    def in_fen(column: str) -> str:
        """A money column (yuan, two decimals) in whole fen."""
        return f"CAST(ROUND({column} * 100) AS BIGINT)"

    def money_sum(self, column: str) -> str:
        """The sum of a money column in whole fen, exactly: PostgreSQL sums the decimals
        exactly (then × 100), SQLite in floating point, so there each amount is made fen
        first (what the databases genuinely do differently; summing the decimals is the
        cheaper where it is exact)."""
        from django.db import connection

        if connection.vendor == "postgresql":
            return f"CAST(SUM({column}) * 100 AS BIGINT)"
        return f"SUM({self.in_fen(column)})"

    def dues_paid(self, part: Part) -> None:
        """Dues paid for the months of the period by the members of the subtree (any
        standing), by child: payments and their amount (one pass over the period's
        payments), members with a payment (one over the members, an index probe each: no
        DISTINCT over the payments); special contributions received in the period, and their
        amount. Money in fen (see ``money_sum``)."""
        p = self.p
        start, end = p(self.period.start), p(self.period.end)
        part.ctes["dues_counts"] = f"""dues_counts AS MATERIALIZED (
    SELECT x.child, SUM(x.payments) AS payments, SUM(x.members) AS members,
        SUM(x.collected) AS collected, SUM(x.special_count) AS special_count,
        SUM(x.special) AS special
    FROM (
        SELECT {self.child()} AS child, COUNT(*) AS payments, 0 AS members,
            {self.money_sum("pay.amount_paid")} AS collected, 0 AS special_count, 0 AS special
        FROM dues_duespayment pay
        JOIN members_member m ON m.id = pay.member_id
        JOIN organizations_organization o ON o.id = m.organization_id
        WHERE {self.in_subtree()} AND pay.month >= {start} AND pay.month <= {end}
        GROUP BY {self.child()}
        UNION ALL
        SELECT {self.child()}, 0, COUNT(*), 0, 0, 0
        FROM members_member m
        JOIN organizations_organization o ON o.id = m.organization_id
        WHERE {self.in_subtree()} AND EXISTS (SELECT 1 FROM dues_duespayment pay
            WHERE pay.member_id = m.id AND pay.month >= {start} AND pay.month <= {end})
        GROUP BY {self.child()}
        UNION ALL
        SELECT {self.child()}, 0, 0, 0, COUNT(*), {self.money_sum("sc.amount")}
        FROM dues_specialcontribution sc
        JOIN members_member m ON m.id = sc.member_id
        JOIN organizations_organization o ON o.id = m.organization_id
        WHERE {self.in_subtree()} AND sc.date >= {start} AND sc.date <= {end}
        GROUP BY {self.child()}
    ) x
    GROUP BY x.child
)"""
        columns = [
            ("members", "members", 0),
            ("payments", "payments", 0),
            ("collected", "collected", 2),
            ("special_count", "special_count", 0),
            ("special", "special", 2),
        ]
        self.child_rows(part, "dues_counts", [ChildTable("dues", columns)])

    def dues_month(self, part: Part) -> None:
        """One month's collection (the period's last month, or the last one ended while the
        period runs): the members of the subtree on the roster who owe it (joined before the
        month began), by child; of them those who paid it; what is due — a paid month as kept
        on its payment, an unpaid one from the base in force (the latest begun by the month)
        by the rate table in force for the root, after an approved reduction or exemption,
        every amount half up to the fen — and what was paid; the rate (paid over due, to
        0.1 %, half up). The rows are the root's own members and every child with its subtree
        that is active or has owing members, 党小组 included."""
        from dangjian.dues.models import Reduction
        from dangjian.dues.rates import DuesCategory, fen
        from dangjian.dues.statistics import table_for_organization
        from dangjian.members.choices import ON_ROSTER

        p = self.p
        month = self.period.last_month_start(self.today)
        table = table_for_organization(self.root)

        def bracketed(brackets) -> str:
            # the bracket's rate on the whole income, half up to the fen: with the rate n / d
            # percent and the income i fen, i n / (100 d) rounded half up
            income = f"COALESCE({self.in_fen('b.monthly_income')}, 0)"
            whens = []
            for bracket in brackets:
                n, d = Decimal(bracket.percent).as_integer_ratio()
                due = f"({income} * {p(2 * n)} + {p(100 * d)}) / {p(200 * d)}"
                if bracket.upper is None:
                    return f"CASE {' '.join(whens)} ELSE {due} END" if whens else due
                whens.append(f"WHEN {income} <= {p(fen(bracket.upper))} THEN {due}")
            raise AssertionError("the last bracket has no upper bound")

        due_from_base = f"""CASE
            WHEN b.reduction = {p(str(Reduction.EXEMPT))} THEN 0
            WHEN b.reduction = {p(str(Reduction.REDUCED))} AND b.reduced_amount IS NOT NULL
                THEN {self.in_fen("b.reduced_amount")}
            WHEN b.category = {p(str(DuesCategory.IN_SERVICE))} THEN {bracketed(table.in_service)}
            WHEN b.category = {p(str(DuesCategory.RETIRED))} THEN {bracketed(table.retired)}
            WHEN b.category = {p(str(DuesCategory.FARMER))}
                THEN COALESCE({self.in_fen("b.fixed_amount")}, {p(fen(table.farmer_minimum))})
            ELSE {p(fen(table.low_income_amount))}
        END"""
        if self.bases == "until":  # the end each base's successor gives it (kept by the services)
            in_force = (
                f"b.effective_from <= {p(month)}"
                f" AND (b.effective_until IS NULL OR b.effective_until > {p(month)})"
            )
        else:  # from the definition: the latest base begun by the month
            in_force = f"""b.effective_from = (SELECT MAX(later.effective_from)
            FROM dues_duesbase later
            WHERE later.member_id = m.id AND later.effective_from <= {p(month)})"""
        part.ctes["dues_month_counts"] = f"""dues_month_counts AS MATERIALIZED (
    SELECT {self.child()} AS child, COUNT(*) AS owing, COUNT(pay.id) AS paid_members,
        SUM(CASE WHEN pay.id IS NOT NULL THEN {self.in_fen("pay.amount_due")}
            WHEN b.id IS NOT NULL THEN {due_from_base} ELSE 0 END) AS due,
        SUM(CASE WHEN pay.id IS NOT NULL THEN {self.in_fen("pay.amount_paid")} ELSE 0 END) AS paid
    FROM members_member m
    JOIN organizations_organization o ON o.id = m.organization_id
    LEFT JOIN dues_duespayment pay ON pay.member_id = m.id AND pay.month = {p(month)}
    LEFT JOIN dues_duesbase b ON b.member_id = m.id AND {in_force}
    WHERE {self.in_subtree()} AND m.standing IN ({p.many(ON_ROSTER)})
        AND m.joined_on < {p(month)}
    GROUP BY {self.child()}
)"""
        columns = [
            ("owing", "owing", 0),
            ("paid_members", "paid_members", 0),
            ("due", "due", 2),
            ("paid", "paid", 2),
        ]
        rate = ("rate", "CASE WHEN due > 0 THEN (paid * 2000 + due) / (2 * due) END", 1)
        self.child_rows(
            part,
            "dues_month_counts",
            [ChildTable("dues_month", columns, derived=(rate,))],
            include_groups=True,
        )

    # ---- flags ------------------------------------------------------------------------------

    def flags(self, tables: tuple[str, ...]) -> Part:
        """Every flag's count today: the home floor's statement (``home_statement``) as a
        CTE, its flag columns one cell each, and their sum."""
        ctes, select = home_statement(self.p, self.root, self.today, self.dues)
        flags = sorted(HOME_FLOOR_FLAGS)
        part = Part({"home": ctes, "flag_counts": f"flag_counts AS MATERIALIZED (\n{select}\n)"})
        cells = [("flags", key, f"CAST(COALESCE({key}, 0) AS BIGINT)", 0) for key in flags]
        total = " + ".join(f"COALESCE({key}, 0)" for key in flags)
        cells.append(("flags", "total", f"CAST({total} AS BIGINT)", 0))
        self.unpivot(part, "flags", "flag_counts", cells, path="NULL", is_self="0")
        return part


def report_floor(
    root,
    wanted: dict[str, tuple[str, ...] | None],
    today: date | None = None,
    dues: str | None = None,
    bases: str = "until",
    cross_checks: bool = True,
) -> Floor:
    """One statement for the tables ``wanted`` ({section: table keys, None: all the
    section's}), for the default period of the statistics page and the dashboard.

    ``dues`` is the home floor's (the arrears flags from the unpaid runs or the ledger),
    ``bases`` how the dues month finds each member's base in force (``"until"``: from the end
    the services keep on each base, as the product reads it; ``"ledger"``: the latest base
    begun by the month). With ``cross_checks``, the floor of one section or panel that reads
    the kept data is also held to the one computing the same numbers from the definitions
    (checked, not timed; the whole dashboard's parts are held to them in their panels')."""
    from django.utils import timezone

    from dangjian.reports.periods import period_from

    today = today or timezone.localdate()
    period = period_from({}, today)  # no year or part asked for: this year, whole
    if dues is None:
        dues = "runs" if unpaid_run_table() else "ledger"
    p = Sql()
    statement = ReportStatement(p, root, today, period, dues, bases)
    parts = []
    for section, keys in wanted.items():
        tables = SECTION_TABLES[section] if keys is None else keys
        method = "dues_part" if section == "dues" else section
        parts.append(getattr(statement, method)(tables))
    floor = Floor(
        compose(parts), p.params, cell_numbers, lambda: report_product(root, period, today, wanted)
    )
    if cross_checks and len(wanted) == 1:
        if "flags" in wanted and dues == "runs":
            floor.cross_checks["the floor from the dues ledger (not the unpaid runs)"] = (
                report_floor(root, wanted, today, "ledger", bases, cross_checks=False)
            )
        if "dues" in wanted and bases == "until":
            floor.cross_checks["the floor with each base found by date (not effective_until)"] = (
                report_floor(root, wanted, today, dues, "ledger", cross_checks=False)
            )
    return floor


def statistics_floor(root, section: str | None, today: date | None = None) -> Floor:
    """``/reports/org/<root>/statistics/?section=<section>`` (None: the first section, the
    page's default) for this year: every cell of every table of the section."""
    from dangjian.reports.statistics import SECTIONS

    return report_floor(root, {section or SECTIONS[0].key: None}, today)


def dashboard_floor(root, panel: str | None = None, today: date | None = None) -> Floor:
    """``/reports/org/<root>/dashboard/<panel>/`` for this year: every cell of the tables the
    panel reads (``PANEL_TABLES``). ``panel`` None: the whole dashboard, every panel, as one
    statement (their CTEs side by side, their cells one UNION ALL).

    On PostgreSQL with its default JIT settings the whole dashboard's statement is estimated
    above ``jit_optimize_above_cost`` (the dues and the flags alone come near it), so the
    server inlines and optimizes the compiled code of every expression of every panel, which
    takes far longer than running it: its time without JIT is the one to read."""
    from dangjian.reports.dashboard import PANELS

    keys = [panel] if panel is not None else list(PANELS)
    return report_floor(root, {key: PANEL_TABLES[key] for key in keys}, today)
