from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class RuleOverride(models.Model):
    """A locality's value for a configurable rule, set for one top-level organization's tree."""

    root = models.ForeignKey(
        "organizations.Organization",
        on_delete=models.CASCADE,
        related_name="rule_overrides",
        verbose_name=_("顶层组织"),
    )
    key = models.CharField(_("规则"), max_length=80)
    value = models.DecimalField(_("取值"), max_digits=14, decimal_places=2)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("规则设置")
        constraints = [
            models.UniqueConstraint(fields=["root", "key"], name="rule_override_unique_key")
        ]

    def __str__(self):
        return f"{self.key}={self.value}"
