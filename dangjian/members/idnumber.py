"""Citizen ID numbers (公民身份号码) per GB 11643-1999.

18 characters: a 6-digit address code, the birth date YYYYMMDD, a 3-digit sequence (odd for
men, even for women) and a check character computed by ISO 7064 MOD 11-2 (``X`` for 10).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARACTERS = "10X98765432"
# Provincial-level codes of the address code (GB/T 2260), plus 71/81/82 (台湾、香港、澳门)
# and 83 (港澳台居民居住证).
PROVINCES = frozenset(
    {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46}
    | {50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83}
)
PATTERN = re.compile(r"^\d{17}[\dX]$")


@dataclass(frozen=True)
class IdNumber:
    value: str
    birth_date: date
    gender: str  # "male" or "female"


def check_character(first17: str) -> str:
    return CHECK_CHARACTERS[sum(int(c) * w for c, w in zip(first17, WEIGHTS, strict=True)) % 11]


def normalize(raw: str) -> str:
    return (raw or "").strip().replace(" ", "").upper()


def parse(raw: str, today: date | None = None) -> IdNumber:
    """The number, its birth date and gender; ValidationError with a Chinese message if bad."""
    value = normalize(raw)
    if len(value) != 18:
        raise ValidationError(_("身份证号应为18位。"), code="length")
    if not PATTERN.match(value):
        raise ValidationError(_("身份证号前17位应为数字，最后一位为数字或X。"), code="format")
    if int(value[:2]) not in PROVINCES:
        raise ValidationError(_("身份证号的地址码（前6位）不存在。"), code="region")
    try:
        birth = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise ValidationError(_("身份证号中的出生日期不存在。"), code="birth_date") from None
    today = today or date.today()
    if birth.year < 1900 or birth > today:
        raise ValidationError(_("身份证号中的出生日期不合理。"), code="birth_date")
    if check_character(value[:17]) != value[17]:
        raise ValidationError(_("身份证号校验位错误，请核对。"), code="checksum")
    gender = "male" if int(value[16]) % 2 else "female"
    return IdNumber(value, birth, gender)


def lookup_hash(value: str) -> str:
    """A keyed hash for exact lookup and uniqueness; the number itself is stored encrypted.

    Keyed with ``ID_HASH_KEY`` (from the environment), not SECRET_KEY, so that rotating the
    session-signing key does not orphan every lookup.
    """
    key = settings.ID_HASH_KEY.encode()
    return hmac.new(key, normalize(value).encode(), hashlib.sha256).hexdigest()


def mask(value: str) -> str:
    """110105********123X: region and the last four characters only."""
    if not value:
        return ""
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_phone(value: str) -> str:
    if not value or len(value) < 7:
        return value
    return value[:3] + "*" * (len(value) - 7) + value[-4:]
