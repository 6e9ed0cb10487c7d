"""What a user may see and do: the subtrees of their role grants.

The grants are read once per request and cached on the user object.
"""

from __future__ import annotations

from dangjian.organizations.querysets import minimal_paths

from .roles import ROLE_PERMISSIONS, Perm


def _grants(user) -> list[tuple[str, str, int]]:
    """(role, organization path, organization id) for each of the user's grants."""
    cached = getattr(user, "_grant_cache", None)
    if cached is None:
        from .models import RoleGrant

        cached = list(
            RoleGrant.objects.filter(
                user=user, organization__dissolved_on__isnull=True
            ).values_list("role", "organization__path", "organization_id")
        )
        user._grant_cache = cached
    return cached


def forget(user) -> None:
    """Drop the cached grants (after a grant changes)."""
    if hasattr(user, "_grant_cache"):
        del user._grant_cache


def scope_paths(user, permission: str | None = None) -> list[str] | None:
    """The subtree roots ``user`` covers for ``permission``; None means everything."""
    if user is None or not user.is_authenticated or not user.is_active:
        return []
    if user.is_superuser:
        return None
    permission = permission or Perm.VIEW_ORGANIZATION
    return minimal_paths(
        path for role, path, _ in _grants(user) if permission in ROLE_PERMISSIONS.get(role, ())
    )


def roles(user) -> set[str]:
    if not user.is_authenticated:
        return set()
    return {role for role, _, _ in _grants(user)}


def has_perm_on(user, permission: str, organization) -> bool:
    """Whether ``user`` holds ``permission`` on ``organization`` (a grant at it or above)."""
    paths = scope_paths(user, permission)
    if paths is None:
        return True
    return any(organization.path.startswith(p) for p in paths)


def has_perm_anywhere(user, permission: str) -> bool:
    paths = scope_paths(user, permission)
    return paths is None or bool(paths)


def roles_on(user, organization) -> set[str]:
    """The roles ``user`` holds on ``organization`` (granted at it or above)."""
    return {role for role, path, _ in _grants(user) if organization.path.startswith(path)}


def scope_roots(user, permission: str | None = None):
    """The organizations at the top of the user's scope, in tree order."""
    from dangjian.organizations.models import Organization

    paths = scope_paths(user, permission)
    if paths is None:
        return Organization.objects.filter(depth=1).active()
    return Organization.objects.filter(path__in=paths).active()
