from dangjian.accounts.roles import Perm
from dangjian.accounts.scope import has_perm_anywhere


def navigation(request):
    """Which menu entries the signed-in user may use."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "nav": {
            "users": has_perm_anywhere(user, Perm.MANAGE_USERS),
            "security": has_perm_anywhere(user, Perm.MANAGE_SECURITY),
            "audit": has_perm_anywhere(user, Perm.VIEW_AUDIT),
            "rules": has_perm_anywhere(user, Perm.VIEW_ORGANIZATION),
            "roster": has_perm_anywhere(user, Perm.VIEW_MEMBERS),
            "life": has_perm_anywhere(user, Perm.VIEW_LIFE),
            "development": has_perm_anywhere(user, Perm.VIEW_DEVELOPMENT),
            "dues": has_perm_anywhere(user, Perm.VIEW_DUES),
            "statistics": has_perm_anywhere(user, Perm.VIEW_STATISTICS),
            "own_record": hasattr(user, "member"),
        }
    }
