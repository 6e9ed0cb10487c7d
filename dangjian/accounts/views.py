from base64 import b32encode

from axes.models import AccessAttempt
from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from rest_framework.authtoken.models import Token

from dangjian.audit.models import AuditAction
from dangjian.audit.services import record
from dangjian.organizations.models import Organization

from . import otp, scope, services
from .forms import GrantForm, OTPTokenForm
from .models import RoleGrant
from .roles import Perm, Role


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            failure_limit=settings.AXES_FAILURE_LIMIT,
            cooloff_minutes=int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
            **kwargs,
        )


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("core:home")

    def form_valid(self, form):
        response = super().form_valid(form)
        record(AuditAction.PASSWORD_CHANGE, actor=self.request.user, instance=self.request.user)
        messages.success(self.request, _("密码已修改。"))
        return response


def safe_next(request, default="/"):
    target = request.POST.get("next") or request.GET.get("next") or default
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return default


@login_required
def otp_verify(request):
    device = otp.confirmed_device(request.user)
    if device is None:
        setup = reverse("accounts:otp_setup")
        return redirect(f"{setup}?{urlencode({'next': safe_next(request)})}")
    form = OTPTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        allowed, _details = device.verify_is_allowed()
        if allowed and device.verify_token(form.cleaned_data["token"]):
            otp_login(request, device)
            record(AuditAction.OTP, actor=request.user, reason="验证通过")
            return redirect(safe_next(request))
        record(AuditAction.OTP, actor=request.user, reason="验证码错误")
        form.add_error("token", _("验证码错误或已过期，请重试。"))
    return render(request, "accounts/otp_verify.html", {"form": form, "next": safe_next(request)})


@login_required
def otp_setup(request):
    if otp.confirmed_device(request.user) and request.user.is_verified():
        messages.info(request, _("您已启用双因素认证。"))
        return redirect("core:home")
    if otp.confirmed_device(request.user):
        return redirect("accounts:otp_verify")
    device = otp.pending_device(request.user)
    form = OTPTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            device.confirmed = True
            device.save()
            otp_login(request, device)
            record(AuditAction.OTP, actor=request.user, reason="启用双因素认证")
            messages.success(request, _("双因素认证已启用。"))
            return redirect(safe_next(request))
        form.add_error("token", _("验证码不正确，请确认手机时间准确后重试。"))
    return render(
        request,
        "accounts/otp_setup.html",
        {
            "form": form,
            "qr_svg": otp.provisioning_svg(device),
            "secret": b32encode(device.bin_key).decode(),
            "required": otp.second_factor_required(request.user),
            "next": safe_next(request),
        },
    )


@login_required
def tokens(request):
    token = Token.objects.filter(user=request.user).first()
    new_key = None
    if request.method == "POST":
        with transaction.atomic():
            Token.objects.filter(user=request.user).delete()
            if request.POST.get("action") == "create":
                token = Token.objects.create(user=request.user)
                new_key = token.key
                record(AuditAction.CREATE, actor=request.user, reason="创建 API 令牌")
            else:
                token = None
                record(AuditAction.DELETE, actor=request.user, reason="撤销 API 令牌")
    return render(request, "accounts/tokens.html", {"token": token, "new_key": new_key})


@login_required
def grants(request):
    manageable = Organization.objects.for_user(request.user, Perm.MANAGE_USERS)
    if not request.user.is_superuser and not scope.has_perm_anywhere(
        request.user, Perm.MANAGE_USERS
    ):
        raise PermissionDenied(_("您无权管理用户和角色。"))
    roles = set()
    for root in scope.scope_roots(request.user, Perm.MANAGE_USERS):
        roles |= services.grantable_roles(request.user, root)
    form = GrantForm(request.POST or None, scope=manageable, roles=roles)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                user = form.existing_user()
                if user is None:
                    if not data["password"]:
                        raise ValidationError(_("新用户须设置初始密码。"))
                    user = services.create_user(
                        request.user, data["username"], data["full_name"], data["password"]
                    )
                services.grant_role(request.user, user, data["organization"], data["role"])
        except (ValidationError, PermissionDenied) as error:
            form.add_error(None, error.messages if hasattr(error, "messages") else str(error))
        else:
            messages.success(request, _("已授权。"))
            return redirect("accounts:grants")
    listing = (
        RoleGrant.objects.filter(organization__in=manageable)
        .select_related("user", "organization")
        .order_by("organization__path", "user__username")[:500]
    )
    return render(
        request,
        "accounts/grants.html",
        {"form": form, "grants": listing, "role_labels": dict(Role.choices)},
    )


@login_required
@require_POST
def revoke(request, pk: int):
    manageable = Organization.objects.for_user(request.user, Perm.MANAGE_USERS)
    grant = get_object_or_404(RoleGrant.objects.filter(organization__in=manageable), pk=pk)
    services.revoke_role(request.user, grant)
    messages.success(request, _("已撤销授权。"))
    return redirect("accounts:grants")


def lockout_attempts(user):
    """Sign-in failures a security administrator may see: for users granted a role within
    their subtree; those at a top-level organization also see names that match no user."""
    attempts = AccessAttempt.objects.order_by("-attempt_time")
    paths = scope.scope_paths(user, Perm.MANAGE_SECURITY)
    if paths is None or any(len(p) == Organization.steplen for p in paths):
        return attempts
    usernames = RoleGrant.objects.filter(
        organization__in=Organization.objects.for_user(user, Perm.MANAGE_SECURITY)
    ).values("user__username")
    return attempts.filter(username__in=usernames)


@login_required
def security(request):
    if not request.user.is_superuser and not scope.has_perm_anywhere(
        request.user, Perm.MANAGE_SECURITY
    ):
        raise PermissionDenied(_("仅安全管理员可以查看。"))
    attempts = lockout_attempts(request.user)
    if request.method == "POST":
        username = request.POST.get("username", "")
        if not attempts.filter(username=username).exists():
            raise Http404
        axes_reset(username=username)
        record(AuditAction.UNLOCK, actor=request.user, reason=f"解除锁定：{username}")
        messages.success(request, _("已解除“%(u)s”的锁定。") % {"u": username})
        return redirect("accounts:security")
    return render(
        request,
        "accounts/security.html",
        {"attempts": attempts[:200], "limit": settings.AXES_FAILURE_LIMIT},
    )
