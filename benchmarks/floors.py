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
itself compiles differently (``Greatest``, ``Cast`` to a date) the floor follows it.

Constants (organization types, step numbers, rule values in force for the root, today) come
from the product as parameters: the floor measures the query, not the configuration.

Each ``*_floor`` function returns a :class:`Floor`, or ``None`` where the floor is still to be
written (the statistics page and the dashboard, see the end of the module).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
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
    if isinstance(numbers, dict) and all(isinstance(v, int) for v in numbers.values()):
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
    from django.db import connection
    from django.utils import timezone

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

    today = today or timezone.localdate()
    unpaid_runs = unpaid_run_table()
    if dues is None:
        dues = "runs" if unpaid_runs else "ledger"
    assert dues in ("ledger", "runs") and (dues == "ledger" or unpaid_runs), dues
    rules = rulebook_for(root)
    postgres = connection.vendor == "postgresql"
    p = Sql()

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
    # (Greatest is NULL if any argument is on SQLite; PostgreSQL skips NULLs): so does this.
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

    sql = f"""
WITH scope AS (
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
            AND {greatest}(COALESCE(r.last_assessed_on, r.activist_on),
                COALESCE(r.admitted_on, r.activist_on)) <= {assessment_cutoff}
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
)
SELECT organization_totals.*, dues_totals.*,
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
FROM organization_totals, dues_totals
"""

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
# Statistics page and dashboard of the root (dangjian/reports): FLOORS TO BE WRITTEN
# --------------------------------------------------------------------------------------------
#
# ``benchmarks/pages.py`` times ``/reports/org/<pk>/statistics/`` (each section,
# ``?section=<key>``) and ``/reports/org/<pk>/dashboard/`` (the page with the panels it loads,
# and each panel, ``dashboard/<key>/``) when their URLs resolve. Their floors go here: one
# statement for each section / panel (or for the whole dashboard, ``key`` None) returning the
# numbers it shows for the root, and a ``product`` reading the same numbers through
# ``dangjian.reports`` (the section's ``build`` / the panel's function, not the template), so
# that ``Floor.check`` compares like with like. Until then these return None and the results
# say "floor to be written".


def statistics_floor(root, section: str | None, today: date | None = None) -> Floor | None:
    # FLOOR TO WRITE: the statistics page of the root, section ``section``
    # (dangjian/reports/statistics.py SECTIONS).
    return None


def dashboard_floor(root, panel: str | None = None, today: date | None = None) -> Floor | None:
    # FLOOR TO WRITE: the dashboard of the root (all panels when ``panel`` is None), or one
    # panel (dangjian/reports/dashboard.py PANELS).
    return None
