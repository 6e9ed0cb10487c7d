"""Querysets for the organization tree: subtrees, scoping by user, host-unit tops."""

from __future__ import annotations

from collections.abc import Iterable
from functools import reduce
from operator import or_

from django.db.models import F, OuterRef, Q, Subquery
from django.db.models.functions import Length, Substr
from treebeard.mp_tree import MP_NodeManager, MP_NodeQuerySet


def minimal_paths(paths: Iterable[str]) -> list[str]:
    """Drop every path that lies inside another one: the subtrees they cover are the same."""
    kept: list[str] = []
    for path in sorted(set(paths)):
        if not kept or not path.startswith(kept[-1]):
            kept.append(path)
    return kept


ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"  # treebeard's default MP_Node alphabet


def path_successor(path: str) -> str | None:
    """The smallest path of the same length after ``path``: no descendant reaches it."""
    chars = list(path)
    for i in range(len(chars) - 1, -1, -1):
        position = ALPHABET.index(chars[i])
        if position + 1 < len(ALPHABET):
            chars[i] = ALPHABET[position + 1]
            return "".join(chars)
        chars[i] = ALPHABET[0]
    return None


def path_range_q(path: str, field: str = "path") -> Q:
    """``field`` starts with ``path``, as a range: an index range scan on SQLite too.

    (SQLite does not use an index for Django's ``LIKE … ESCAPE`` prefix filter.)
    """
    q = Q(**{f"{field}__gte": path})
    upper = path_successor(path)
    if upper is not None:
        q &= Q(**{f"{field}__lt": upper})
    return q


def subtree_q(paths: Iterable[str], field: str = "path") -> Q:
    """Rows whose ``field`` lies in any of the subtrees rooted at ``paths`` (never all rows)."""
    paths = minimal_paths(paths)
    if not paths:
        return Q(pk__in=[])
    return reduce(or_, (path_range_q(p, field) for p in paths))


class OrganizationQuerySet(MP_NodeQuerySet):
    def active(self):
        return self.filter(dissolved_on__isnull=True)

    def within(self, organization, include_self: bool = True):
        """The subtree of ``organization``: one indexed prefix query."""
        qs = self.filter(path_range_q(organization.path))
        if not include_self:
            qs = qs.exclude(pk=organization.pk)
        return qs

    def above(self, organization):
        """The organizations above ``organization``, top first (its breadcrumbs)."""
        return self.filter(path__in=organization.ancestor_paths).order_by("depth")

    def for_user(self, user, permission: str | None = None):
        """What ``user`` may see (or act on with ``permission``): the subtrees of their grants.

        Every list of organizations in the product goes through here.
        """
        from dangjian.accounts.scope import scope_paths

        paths = scope_paths(user, permission)
        if paths is None:  # unrestricted (superuser)
            return self
        return self.filter(subtree_q(paths))

    def unit_tops(self):
        """The top organization of each host unit: its parent is of another sector, or none.

        Reliable for villages and communities, which sit under a town or street (another
        sector); organs and enterprises nest units of one sector and need not use it.

        A village's 党委 and its branches share the sector "village"; flags about the village
        as a unit (collective income, premises) belong on the top one only.
        """
        from .models import Organization

        parent_sector = Organization.objects.filter(
            path=Substr(OuterRef("path"), 1, Length(OuterRef("path")) - Organization.steplen)
        ).values("sector")[:1]
        return self.annotate(parent_sector=Subquery(parent_sector)).filter(
            Q(depth=1) | Q(parent_sector__isnull=True) | ~Q(parent_sector=F("sector"))
        )


class OrganizationManager(MP_NodeManager):
    def get_queryset(self):
        return OrganizationQuerySet(self.model, using=self._db).order_by("path")
