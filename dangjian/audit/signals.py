"""Sign-in events go into the audit log."""

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from .context import client_ip
from .models import AuditAction
from .services import record


@receiver(user_logged_in)
def on_login(sender, request, user, **kwargs):
    record(AuditAction.LOGIN, actor=user, ip_address=client_ip(request) if request else None)


@receiver(user_logged_out)
def on_logout(sender, request, user, **kwargs):
    if user is not None:
        record(AuditAction.LOGOUT, actor=user, ip_address=client_ip(request) if request else None)


@receiver(user_login_failed)
def on_login_failed(sender, credentials, request=None, **kwargs):
    record(
        AuditAction.LOGIN_FAILED,
        actor_name=str(credentials.get("username", ""))[:150],
        ip_address=client_ip(request) if request else None,
    )


@receiver(user_locked_out)
def on_locked_out(sender, request=None, username=None, ip_address=None, **kwargs):
    record(
        AuditAction.LOCKOUT,
        actor_name=str(username or "")[:150],
        ip_address=ip_address,
        reason="连续登录失败次数达到上限，账号已锁定",
    )
