"""Building, answering and sending the monthly key-work reminder lists (重点工作提醒单).

Reminders come before deadlines: a list says what each branch still has to do this month, by
when, and under which rule. It is built from two sources, for a whole subtree at once:

* the compliance engine (:mod:`dangjian.orglife.compliance`): a requirement whose running
  period is not yet met, once its deadline is within ``orglife.reminder_lead_months`` of the
  month (monthly work every month, quarterly work every month of the quarter, yearly work
  from October with the default of 3). Periods that already ended short are left to the
  compliance matrix: the list is not a record of blame;
* the flags registry (:mod:`dangjian.core.flags`): every hit on a branch, or on a 党小组 of
  it, becomes an item of the branch's list.

:func:`generate` is set-based — a fixed number of queries per top-level organization
whatever the number of branches — and idempotent: items are keyed by their source, so a
rebuild updates them in place, never touching what people recorded (done, note, sent), and
marks the ones that no longer apply as resolved.

:func:`send` e-mails each branch's new items once: the items are claimed with a conditional
UPDATE (``sent_at IS NULL`` → now) before the message goes out, and released if it fails.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from dangjian.accounts.models import RoleGrant
from dangjian.accounts.roles import Perm, Role
from dangjian.audit.models import AuditAction
from dangjian.audit.services import record, snapshot
from dangjian.core.flags import Flag, FlagContext, all_flags
from dangjian.organizations.models import BRANCH_TYPES, Organization
from dangjian.organizations.querysets import path_range_q, subtree_q
from dangjian.organizations.services import add_months, months_between, require
from dangjian.orglife import compliance
from dangjian.orglife.choices import MeetingKind, Period
from dangjian.orglife.requirements import Requirement, requirements_for
from dangjian.orglife.rules import REMINDER_LEAD_MONTHS
from dangjian.rules.registry import RuleBook

from .models import ReminderItem, ReminderList

logger = logging.getLogger(__name__)

# Who receives a branch's list by e-mail: those who keep its records, granted on the branch.
RECIPIENT_ROLES = (Role.SECRETARY, Role.CLERK)
BATCH = 500
# Fields a rebuild may rewrite; done_at, done_by, note and sent_at belong to people.
GENERATED_FIELDS = ["title", "detail", "due_on", "citation", "source", "resolved_automatically"]
DONE_FIELDS = ["done_at", "done_by", "note"]

VERBS = {
    MeetingKind.LECTURE: "讲",
    MeetingKind.THEME_DAY: "开展",
    MeetingKind.APPRAISAL: "开展",
    MeetingKind.TALK: "开展",
}
PERIOD_WORDS = {Period.MONTH: "本月", Period.QUARTER: "本季度", Period.YEAR: "本年度"}


# Months.


def parse_month(text: str | None) -> date | None:
    """``"2026-11"`` → 2026-11-01; None when it is not a month."""
    try:
        year, month = (text or "").strip().split("-")
        return date(int(year), int(month), 1)
    except ValueError:
        return None


def month_end(month: date) -> date:
    return add_months(month.replace(day=1), 1) - timedelta(days=1)


def reference_day(month: date, today: date) -> date:
    """The day a month's list is judged on: today within that month, else its nearest day."""
    return min(max(today, month), month_end(month))


# Generation.


@dataclass
class Draft:
    key: str
    title: str
    detail: str
    due_on: date | None
    citation: str
    source: str


@dataclass
class GenerateResult:
    month: date
    lists: int = 0
    created: int = 0
    updated: int = 0
    resolved: int = 0


def _period_key(requirement: Requirement, slot: int, year: int) -> str:
    if requirement.period == Period.MONTH:
        return f"{year}-{slot + 1:02d}"
    if requirement.period == Period.QUARTER:
        return f"{year}-Q{slot + 1}"
    return str(year)


def requirement_drafts(
    row: compliance.OrgRow, window: compliance.Window, month: date, lead: int, prefix: str = ""
) -> list[Draft]:
    """What ``row`` still owes in its running periods whose deadline is near."""
    drafts = []
    for kind, cell in row.cells.items():
        requirement, slot = cell.requirement, cell.current
        if slot is None or cell.met_mask >> slot & 1:
            continue
        deadline = window.deadline(requirement, slot)
        if months_between(month, deadline) >= lead:
            continue
        slots = window.slots(requirement)
        held = cell.counts[slots.index(slot)] if cell.counts else 0
        verb = VERBS.get(kind, "召开")
        words = {
            "period": PERIOD_WORDS[requirement.period],
            "verb": verb,
            "kind": requirement.label,
        }
        if held:
            title = _("%(period)s%(kind)s尚未达到规定次数") % words
        else:
            title = _("%(period)s尚未%(verb)s%(kind)s") % words
        detail = _("%(rule)s；%(period)s已%(verb)s%(n)d次") % {
            **words,
            "rule": requirement.summary(),
            "n": held,
        }
        key = f"orglife:{kind}:{_period_key(requirement, slot, window.year)}"
        if prefix:
            key += f":org:{row.id}"
        drafts.append(
            Draft(
                key=key,
                title=f"{prefix}{title}",
                detail=detail,
                due_on=deadline,
                citation=f"{requirement.citation}：{requirement.rule_text}",
                source=ReminderItem.Source.REQUIREMENT,
            )
        )
    return drafts


def _flag_due(flag: Flag, obj) -> date | None:
    """The date a flagged condition is due by, where it has one."""
    due_of = getattr(flag, "due_of", None)
    if callable(due_of):
        return due_of(obj)
    if isinstance(obj, Organization) and flag.key.startswith("term_"):
        return obj.term_due_on
    return getattr(obj, "valid_until", None)


def flag_draft(flag: Flag, obj, organization, branch_id: int, ctx: FlagContext) -> Draft:
    text = str(flag.describe(obj, ctx))
    subject = getattr(obj, "name", None)
    is_branch_itself = isinstance(obj, Organization) and obj.pk == branch_id
    if subject and not is_branch_itself and subject not in text:
        text = f"{subject}：{text}" if text else subject
    return Draft(
        key=f"flag:{flag.key}:{obj._meta.model_name}:{obj.pk}",
        title=str(flag.label),
        detail=text,
        due_on=_flag_due(flag, obj),
        citation=str(flag.citation),
        source=ReminderItem.Source.FLAG,
    )


def generate(organizations: QuerySet, month: date, today: date) -> GenerateResult:
    """Build (or rebuild) ``month``'s list of every active branch in ``organizations``.

    ``organizations`` should hold whole subtrees (e.g. ``Organization.objects.within(org)``):
    a branch's 党小组 are read from it too. Queries: a few, plus per top-level organization
    one per requirement and one per flag — never one per branch.
    """
    month = month.replace(day=1)
    result = GenerateResult(month)
    branches = organizations.active().filter(org_type__in=BRANCH_TYPES)
    branch_paths = dict(branches.values_list("path", "id"))
    if not branch_paths:
        return result
    steplen = Organization.steplen
    by_id = {pk: path for path, pk in branch_paths.items()}

    def branch_of(organization) -> int | None:
        if organization is None:
            return None
        if organization.pk in by_id:
            return organization.pk
        return branch_paths.get(organization.path[:-steplen])

    drafts: dict[int, dict[str, Draft]] = {pk: {} for pk in by_id}
    day = reference_day(month, today)
    window = compliance.Window(month.year, day)
    roots = Organization.objects.filter(path__in={p[:steplen] for p in branch_paths})
    for root in roots:
        scope = organizations.filter(path_range_q(root.path))
        rules = RuleBook.for_root(root)
        lead = int(rules[REMINDER_LEAD_MONTHS.key])
        matrix = compliance.compute(scope, window, requirements_for(root), with_counts=True)
        for row in matrix.rows:
            if row.id in by_id:
                branch_id, prefix = row.id, ""
            else:
                branch_id = branch_paths.get(row.path[:-steplen])
                prefix = f"{row.name}："
            if branch_id is None:
                continue
            for draft in requirement_drafts(row, window, month, lead, prefix):
                drafts[branch_id][draft.key] = draft
        ctx = FlagContext(organizations=scope, rules=rules, today=day)
        for flag in all_flags():
            for obj in flag.queryset(ctx):
                organization = flag.organization_of(obj)
                branch_id = branch_of(organization)
                if branch_id is None:
                    continue
                draft = flag_draft(flag, obj, organization, branch_id, ctx)
                drafts[branch_id][draft.key] = draft
    with transaction.atomic():
        _save(drafts, branches, month, result)
    return result


def _save(
    drafts: dict[int, dict[str, Draft]], branches: QuerySet, month: date, result: GenerateResult
) -> None:
    now = timezone.now()
    lists = ReminderList.objects.filter(month=month, organization__in=branches)
    have = set(lists.values_list("organization_id", flat=True))
    ReminderList.objects.bulk_create(
        [
            ReminderList(organization_id=pk, month=month, generated_at=now)
            for pk in drafts
            if pk not in have
        ],
        batch_size=BATCH,
        ignore_conflicts=True,  # a concurrent rebuild may have created it meanwhile
    )
    lists.update(generated_at=now)
    list_of = dict(lists.values_list("organization_id", "pk"))
    result.lists = len(list_of)
    existing = {
        (row[1], row[2]): row
        for row in ReminderItem.objects.filter(reminder_list__in=lists).values_list(
            "pk", "reminder_list_id", "key", *GENERATED_FIELDS, "done_at"
        )
    }
    create, update, wanted = [], [], set()
    for branch_id, items in drafts.items():
        list_id = list_of.get(branch_id)
        if list_id is None:
            continue
        for key, d in items.items():
            wanted.add((list_id, key))
            values = (d.title[:200], d.detail[:500], d.due_on, d.citation[:500], d.source, False)
            row = existing.get((list_id, key))
            if row is None:
                create.append(
                    ReminderItem(
                        reminder_list_id=list_id,
                        key=key,
                        **dict(zip(GENERATED_FIELDS, values, strict=True)),
                    )
                )
            elif tuple(row[3:9]) != values:
                update.append(
                    ReminderItem(pk=row[0], **dict(zip(GENERATED_FIELDS, values, strict=True)))
                )
    ReminderItem.objects.bulk_create(create, batch_size=BATCH, ignore_conflicts=True)
    ReminderItem.objects.bulk_update(update, GENERATED_FIELDS, batch_size=BATCH)
    # Resolved: no longer found, not answered by anyone, not already marked.
    resolved = [
        row[0]
        for pair, row in existing.items()
        if pair not in wanted and row[-1] is None and not row[8]
    ]
    for start in range(0, len(resolved), BATCH):
        ReminderItem.objects.filter(pk__in=resolved[start : start + BATCH]).update(
            resolved_automatically=True
        )
    result.created, result.updated, result.resolved = len(create), len(update), len(resolved)


def ensure_lists(branches: list[Organization], month: date, today: date) -> dict[int, ReminderList]:
    """The month's lists of ``branches``, (re)built first where missing or built before today.

    For the pages: one generation for all the branches that need it.
    """
    month = month.replace(day=1)
    if not branches:
        return {}
    ids = [b.pk for b in branches]
    fresh_since = timezone.make_aware(datetime.combine(today, datetime.min.time()))
    lists = {
        lst.organization_id: lst
        for lst in ReminderList.objects.filter(organization_id__in=ids, month=month)
    }
    current = month == today.replace(day=1)
    stale = [
        b
        for b in branches
        if b.pk not in lists or (current and lists[b.pk].generated_at < fresh_since)
    ]
    if stale:
        generate(Organization.objects.filter(subtree_q(b.path for b in stale)), month, today)
        lists = {
            lst.organization_id: lst
            for lst in ReminderList.objects.filter(organization_id__in=ids, month=month)
        }
    return lists


def summary(lists) -> dict[int, dict[str, int]]:
    """Per list: items (not resolved by the system), done, open — one query."""
    rows = (
        ReminderItem.objects.filter(reminder_list__in=lists)
        .order_by()
        .values("reminder_list_id")
        .annotate(
            total=Count("pk", filter=Q(resolved_automatically=False) | Q(done_at__isnull=False)),
            done=Count("pk", filter=Q(done_at__isnull=False)),
            resolved=Count("pk", filter=Q(resolved_automatically=True, done_at__isnull=True)),
        )
    )
    return {r["reminder_list_id"]: {**r, "open": r["total"] - r["done"]} for r in rows}


# Answering an item.


@transaction.atomic
def mark_done(actor, item: ReminderItem, note: str) -> ReminderItem:
    """Mark ``item`` done with a note (MANAGE_LIFE on its branch); audited."""
    current = (
        ReminderItem.objects.select_for_update()
        .select_related("reminder_list__organization")
        .get(pk=item.pk)
    )
    organization = current.reminder_list.organization
    require(actor, Perm.MANAGE_LIFE, organization)
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": [_("请填写完成情况说明。")]})
    if current.done_at is not None:
        raise ValidationError({"note": [_("该事项已标记完成。")]})
    before = snapshot(current, DONE_FIELDS)
    current.done_at = timezone.now()
    current.done_by = actor
    current.note = note[:2000]
    current.save(update_fields=DONE_FIELDS)
    record(
        AuditAction.UPDATE,
        actor=actor,
        instance=current,
        organization=organization,
        before=before,
        after=snapshot(current, DONE_FIELDS),
        reason=note,
    )
    return current


# Sending.


@dataclass
class SendResult:
    generated: GenerateResult
    messages: int = 0
    items: int = 0
    failed: int = 0
    without_recipients: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "month": self.generated.month.isoformat(),
            "lists": self.generated.lists,
            "created": self.generated.created,
            "resolved": self.generated.resolved,
            "messages": self.messages,
            "items": self.items,
            "failed": self.failed,
            "without_recipients": len(self.without_recipients),
        }


def recipients(branches: QuerySet) -> dict[int, list[str]]:
    """E-mail addresses of the secretaries and clerks granted on each branch itself."""
    rows = (
        RoleGrant.objects.filter(
            organization__in=branches, role__in=RECIPIENT_ROLES, user__is_active=True
        )
        .exclude(user__email="")
        .order_by("organization_id", "user_id")
        .values_list("organization_id", "user__email")
    )
    result: dict[int, list[str]] = defaultdict(list)
    for org_id, email in rows:
        if email not in result[org_id]:
            result[org_id].append(email)
    return result


def _pending() -> QuerySet:
    return ReminderItem.objects.filter(
        sent_at__isnull=True, done_at__isnull=True, resolved_automatically=False
    )


def claim(reminder_list_id: int) -> tuple[datetime, list[ReminderItem]]:
    """Mark the list's unsent open items as sent, for this run only.

    The items are locked and then updated only while ``sent_at`` is still NULL; if another
    run took any of them first, this run takes none (the other sends them).
    """
    now = timezone.now()
    with transaction.atomic():
        ids = list(
            _pending()
            .filter(reminder_list_id=reminder_list_id)
            .select_for_update()
            .values_list("pk", flat=True)
        )
        if not ids:
            return now, []
        taken = ReminderItem.objects.filter(pk__in=ids, sent_at__isnull=True).update(sent_at=now)
        if taken != len(ids):
            transaction.set_rollback(True)
            return now, []
        return now, list(ReminderItem.objects.filter(pk__in=ids))


def release(items: list[ReminderItem], stamp: datetime) -> None:
    """Undo a claim whose message did not go out, so that a later run sends it."""
    ReminderItem.objects.filter(pk__in=[i.pk for i in items], sent_at=stamp).update(sent_at=None)


def message(reminder_list: ReminderList, items: list[ReminderItem], to: list[str], connection):
    organization = reminder_list.organization
    subject = _("【重点工作提醒单】%(org)s %(year)d年%(month)d月") % {
        "org": organization.name,
        "year": reminder_list.month.year,
        "month": reminder_list.month.month,
    }
    body = render_to_string(
        "reminders/email.txt",
        {
            "list": reminder_list,
            "org": organization,
            "items": items,
            "url": getattr(settings, "SITE_URL", "").rstrip("/") + reminder_list.get_absolute_url(),
        },
    )
    return mail.EmailMessage(subject, body, to=to, connection=connection)


def send(
    month: date, today: date, organizations: QuerySet | None = None, connection=None
) -> SendResult:
    """Rebuild ``month``'s lists, then e-mail each branch its items not yet sent or answered:
    one message per branch per run. Safe to run twice, or twice at once."""
    month = month.replace(day=1)
    if organizations is None:
        organizations = Organization.objects.all()
    result = SendResult(generate(organizations, month, today))
    branches = organizations.active().filter(org_type__in=BRANCH_TYPES)
    list_ids = (
        _pending()
        .filter(reminder_list__month=month, reminder_list__organization__in=branches)
        .values("reminder_list_id")
    )
    lists = ReminderList.objects.filter(pk__in=list_ids).select_related("organization")
    to = recipients(branches)
    connection = connection or mail.get_connection()
    for reminder_list in lists.order_by("organization__path"):
        emails = to.get(reminder_list.organization_id)
        if not emails:
            result.without_recipients.append(reminder_list.organization.name)
            continue
        stamp, items = claim(reminder_list.pk)
        if not items:
            continue
        items.sort(key=lambda i: (i.due_on or date.max, i.pk))
        try:
            message(reminder_list, items, emails, connection).send()
        except Exception:
            logger.exception("reminder list %s not sent", reminder_list.pk)
            release(items, stamp)
            result.failed += 1
        else:
            result.messages += 1
            result.items += len(items)
    return result
