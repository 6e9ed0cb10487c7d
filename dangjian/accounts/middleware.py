"""Session timeouts and the required second factor."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from .otp import second_factor_required

# Refresh the "last seen" mark at most this often, so most requests write no session.
SEEN_RESOLUTION_SECONDS = 60


class SessionTimeoutMiddleware:
    """Sign out after ``SESSION_IDLE_TIMEOUT`` idle or ``SESSION_ABSOLUTE_TIMEOUT`` in all."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = timezone.now().timestamp()
            login_at = request.session.get("_login_at", now)
            seen_at = request.session.get("_seen_at", now)
            idle = settings.SESSION_IDLE_TIMEOUT.total_seconds()
            absolute = settings.SESSION_ABSOLUTE_TIMEOUT.total_seconds()
            if now - seen_at > idle or now - login_at > absolute:
                logout(request)
                if request.path.startswith("/api/"):
                    return JsonResponse({"detail": _("会话已超时，请重新登录。")}, status=401)
                messages.info(request, _("会话已超时，请重新登录。"))
                return redirect(
                    f"{reverse('accounts:login')}?{urlencode({'next': request.get_full_path()})}"
                )
            if "_login_at" not in request.session:
                request.session["_login_at"] = now
            if now - seen_at >= SEEN_RESOLUTION_SECONDS or "_seen_at" not in request.session:
                request.session["_seen_at"] = now
        return self.get_response(request)


OTP_EXEMPT_PREFIXES = ("/accounts/otp/", "/accounts/logout/", "/static/")


class RequireSecondFactorMiddleware:
    """A signed-in user who must use a one-time code goes nowhere else until they have."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if (
            user.is_authenticated
            and not user.is_verified()
            and not request.path.startswith(OTP_EXEMPT_PREFIXES)
            and second_factor_required(user)
        ):
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": _("需要完成双因素认证。")}, status=403)
            return redirect(
                f"{reverse('accounts:otp_verify')}?{urlencode({'next': request.get_full_path()})}"
            )
        return self.get_response(request)
