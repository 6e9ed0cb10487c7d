from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from dangjian.accounts.roles import Perm
from dangjian.accounts.scope import has_perm_on, scope_roots
from dangjian.organizations.models import Organization

from . import services
from .registry import RULES, RuleBook


def top_organization(request) -> Organization:
    root = scope_roots(request.user).first()
    if root is None:
        raise Http404
    return Organization.objects.get(path=root.root_path)


@login_required
def rule_list(request):
    root = top_organization(request)
    can_edit = has_perm_on(request.user, Perm.MANAGE_RULES, root)
    failed = {}  # key -> (what was typed, the errors), to show again
    if request.method == "POST":
        if not can_edit:
            raise PermissionDenied(_("只有顶层组织的管理员可以修改规则设置。"))
        key = request.POST.get("key", "")
        typed = request.POST.get("value", "").strip()
        try:
            services.set_rule(request.user, root, key, typed)
        except ValidationError as error:
            failed[key] = (typed, error.messages)
        else:
            messages.success(request, _("规则设置已保存。"))
            return redirect("rules:list")
    book = RuleBook.for_root(root)
    rules = [
        {
            "rule": rule,
            "value": book[key],
            "overridden": book.is_overridden(key),
            "typed": failed.get(key, (None, []))[0],
            "errors": failed.get(key, (None, []))[1],
        }
        for key, rule in sorted(RULES.items())
    ]
    return render(request, "rules/list.html", {"root": root, "rules": rules, "can_edit": can_edit})
