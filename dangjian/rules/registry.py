"""Rules that come from regulations, as data.

Each app declares its rules as :class:`Rule` constants (number, unit, citation) and registers
them here. A configurable rule may be overridden for one top-level organization's tree by an
administrator of that organization (:class:`~dangjian.rules.models.RuleOverride`); everything
that raises a reminder or flag from a rule shows the rule's citation next to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.utils.functional import Promise

# What RuleOverride.value holds: 14 digits, 2 of them decimals.
MAXIMUM_VALUE = Decimal("1e12")


@dataclass(frozen=True)
class Rule:
    key: str
    label: str | Promise
    default: int | Decimal
    unit: str | Promise
    citation: str | Promise
    configurable: bool = False
    minimum: int | Decimal | None = None
    maximum: int | Decimal | None = None

    def coerce(self, value) -> int | Decimal:
        """The value as the rule's type, checked against its bounds."""
        try:
            number = Decimal(str(value).strip())
        except ArithmeticError:
            raise ValueError("不是有效的数字") from None
        if not number.is_finite():
            raise ValueError("不是有效的数字")
        if abs(number) >= MAXIMUM_VALUE:
            raise ValueError(f"不能超过 {MAXIMUM_VALUE:f}")
        if number != number.quantize(Decimal("0.01")):
            raise ValueError("最多保留两位小数")
        if isinstance(self.default, int):
            if number != number.to_integral_value():
                raise ValueError("必须是整数")
            number = int(number)
        if self.minimum is not None and number < self.minimum:
            raise ValueError(f"不能小于 {self.minimum}")
        if self.maximum is not None and number > self.maximum:
            raise ValueError(f"不能大于 {self.maximum}")
        return number


RULES: dict[str, Rule] = {}


def register(rule: Rule) -> Rule:
    if rule.key in RULES and RULES[rule.key] != rule:
        raise ValueError(f"rule {rule.key!r} registered twice")
    RULES[rule.key] = rule
    return rule


def get(key: str) -> Rule:
    return RULES[key]


class RuleBook:
    """The rules in force for one top-level organization's tree, read once."""

    def __init__(self, overrides: dict[str, Decimal] | None = None):
        self.overrides = overrides or {}

    def __getitem__(self, key: str) -> int | Decimal:
        rule = RULES[key]
        if rule.configurable and key in self.overrides:
            try:
                return rule.coerce(self.overrides[key])
            except ValueError:
                pass  # a value stored before its bounds were tightened: the default holds
        return rule.default

    def is_overridden(self, key: str) -> bool:
        return RULES[key].configurable and key in self.overrides

    @classmethod
    def for_root(cls, root) -> RuleBook:
        from .models import RuleOverride

        if root is None:
            return cls()
        rows = RuleOverride.objects.filter(root=root).values_list("key", "value")
        return cls(dict(rows))
