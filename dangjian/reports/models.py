"""Report templates: the text of a work summary or report with named placeholders that a
draft fills with figures from data (see :mod:`dangjian.reports.drafts`)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from dangjian.organizations.models import Organization

from .periods import PARTS


class ReportTemplate(models.Model):
    """A template is either shipped for everyone (no organization) or kept by an
    organization for its subtree. Its body is plain text: a line starting with ``# `` is the
    title, ``## `` a heading, anything else a paragraph; ``{name}`` is a figure."""

    name = models.CharField(_("模板名称"), max_length=100)
    description = models.CharField(_("用途说明"), max_length=200, blank=True)
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("所属党组织"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="report_templates",
        help_text=_("留空为全系统通用模板"),
    )
    default_part = models.CharField(
        _("默认统计期"),
        max_length=8,
        choices=[(k, v[0]) for k, v in PARTS.items()],
        default="year",
    )
    body = models.TextField(_("模板正文"))
    version = models.PositiveIntegerField(default=1, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, editable=False
    )

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("报告模板")
        verbose_name_plural = _("报告模板")

    def __str__(self):
        return self.name
