"""One-time codes (TOTP) as a second factor, through django-otp."""

from __future__ import annotations

import io

import qrcode
import qrcode.image.svg
from django.conf import settings
from django_otp.plugins.otp_totp.models import TOTPDevice

from . import scope


def confirmed_device(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def second_factor_required(user) -> bool:
    """Required for the roles in ``OTP_REQUIRED_ROLES``, and for anyone who enrolled a device."""
    if user.is_superuser and "system_admin" in settings.OTP_REQUIRED_ROLES:
        return True
    if scope.roles(user) & set(settings.OTP_REQUIRED_ROLES):
        return True
    return confirmed_device(user) is not None


def pending_device(user) -> TOTPDevice:
    """The device being enrolled (unconfirmed until its first code is accepted)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="TOTP", confirmed=False)
    return device


def provisioning_svg(device: TOTPDevice) -> str:
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue().decode()
