"""The flags registry: conditions on organizations (and later members) that need attention.

Each app registers its flags here. A flag finds all its hits for a whole subtree in one query
(set-based, never a loop over organizations) and carries the rule it enforces and its citation,
shown next to every hit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, QuerySet, Window
from django.utils.functional import Promise


@dataclass(frozen=True)
class FlagContext:
    """Everything a flag needs: the organizations in scope, the rules in force, today."""

    organizations: QuerySet  # Organization queryset: the subtree(s) being looked at
    rules: object  # dangjian.rules.registry.RuleBook
    today: date


class Flag:
    key: str = ""
    label: str | Promise = ""
    citation: str | Promise = ""
    severity: str = "warning"  # "warning" or "danger"
    order: int = 100

    def queryset(self, ctx: FlagContext) -> QuerySet:
        """Every object the flag is raised on within ``ctx.organizations``."""
        raise NotImplementedError

    def describe(self, obj, ctx: FlagContext) -> str:
        """One line saying why ``obj`` is flagged."""
        return ""

    def organization_of(self, obj):
        return getattr(obj, "organization", obj)

    def hits(self, ctx: FlagContext, limit: int | None = None) -> list[FlagHit]:
        qs = self.queryset(ctx)
        return self._hits(qs if limit is None else qs[:limit], ctx)

    def _hits(self, objects, ctx: FlagContext) -> list[FlagHit]:
        return [
            FlagHit(self, obj, self.organization_of(obj), self.describe(obj, ctx))
            for obj in objects
        ]

    def count(self, ctx: FlagContext) -> int:
        return self.queryset(ctx).count()

    def count_and_hits(self, ctx: FlagContext, limit: int) -> tuple[int, list[FlagHit]]:
        """The count and the first ``limit`` hits. A flag whose query groups (members
        counted per branch, say) takes one query, the count riding on each row as
        ``COUNT(*) OVER ()`` (taken before the LIMIT), so the grouping is done once, not
        twice. A plain filter takes two: its count is an index scan and its first hits a
        top-N sort, both cheaper than numbering every hit (measured on the city data)."""
        qs = self.queryset(ctx)
        grouped = qs.query.group_by is not None
        if not grouped or qs.query.combinator or qs.query.distinct:
            count = qs.count()
            return count, self._hits(qs[:limit], ctx) if count else []
        objects = list(qs.annotate(flag_total=Window(Count("*")))[:limit])
        return (objects[0].flag_total if objects else 0), self._hits(objects, ctx)


@dataclass(frozen=True)
class FlagHit:
    flag: Flag
    obj: object
    organization: object
    detail: str


FLAGS: dict[str, Flag] = {}


def register(flag_class: type[Flag]) -> type[Flag]:
    flag = flag_class()
    if not flag.key:
        raise ValueError(f"{flag_class.__name__} has no key")
    FLAGS[flag.key] = flag
    return flag_class


def all_flags() -> list[Flag]:
    return sorted(FLAGS.values(), key=lambda f: (f.order, f.key))


def summary(ctx: FlagContext, limit: int = 10) -> list[tuple[Flag, int, list[FlagHit]]]:
    """Each flag with its count and its first hits, for flags that have any."""
    rows = []
    for flag in all_flags():
        count, hits = flag.count_and_hits(ctx, limit)
        if count:
            rows.append((flag, count, hits))
    return rows
