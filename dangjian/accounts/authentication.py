"""API tokens that respect the second factor and expire."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from .otp import confirmed_device, second_factor_required


class ExpiringSecondFactorTokenAuthentication(TokenAuthentication):
    """A token is refused once it is older than ``API_TOKEN_DAYS``, and for a user who must
    use a second factor unless it was made after their device was enrolled (the tokens page
    is reached only through a verified session, so such a token was made after a code)."""

    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        if timezone.now() - token.created > timedelta(days=settings.API_TOKEN_DAYS):
            raise AuthenticationFailed(_("API 令牌已过期，请重新生成。"))
        if second_factor_required(user):
            device = confirmed_device(user)
            if device is None or device.created_at is None or token.created < device.created_at:
                raise AuthenticationFailed(
                    _("您的角色须使用双因素认证：请先绑定动态验证码，再重新生成 API 令牌。")
                )
        return user, token
