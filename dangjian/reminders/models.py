"""The monthly key-work reminder list (重点工作提醒单) of each branch.

A list is derived data: :func:`dangjian.reminders.services.generate` rebuilds it from the
compliance engine and the flags registry. What people add to it — an item marked done with a
note, the time it was e-mailed — is never touched by a rebuild.
"""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from dangjian.organizations.models import Organization


class ReminderList(models.Model):
    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="reminder_lists",
        verbose_name=_("党支部"),
    )
    month = models.DateField(_("月份"), help_text=_("该月第一天"))
    generated_at = models.DateTimeField(_("生成时间"))

    class Meta:
        verbose_name = _("重点工作提醒单")
        verbose_name_plural = _("重点工作提醒单")
        ordering = ["-month", "organization__path"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "month"], name="reminder_list_one_per_month"
            )
        ]
        indexes = [models.Index(fields=["month", "organization"], name="reminder_list_month_org")]

    def __str__(self):
        return f"{self.organization} {self.month:%Y-%m}"

    def get_absolute_url(self):
        return reverse("reminders:list", args=[self.organization_id]) + f"?month={self.month:%Y-%m}"


class ReminderItem(models.Model):
    class Source(models.TextChoices):
        REQUIREMENT = "requirement", _("组织生活要求")
        FLAG = "flag", _("预警事项")

    reminder_list = models.ForeignKey(
        ReminderList, on_delete=models.CASCADE, related_name="items", verbose_name=_("提醒单")
    )
    # Stable per source, e.g. "orglife:committee_meeting:2026-11" or
    # "flag:term_due_soon:organization:123": a rebuild finds the same row again.
    key = models.CharField(max_length=120)
    title = models.CharField(_("事项"), max_length=200)
    detail = models.CharField(_("说明"), max_length=500, blank=True)
    due_on = models.DateField(_("完成期限"), null=True, blank=True)
    citation = models.CharField(_("依据"), max_length=500, blank=True)
    source = models.CharField(_("来源"), max_length=12, choices=Source.choices)
    done_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("标记人"),
    )
    note = models.TextField(_("完成情况说明"), blank=True)
    # The rebuild no longer finds the condition (the meeting was recorded, the term renewed).
    resolved_automatically = models.BooleanField(_("系统核验已完成"), default=False)
    # Claimed (set) before the e-mail goes out, released if sending fails.
    sent_at = models.DateTimeField(_("邮件发送时间"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("提醒事项")
        verbose_name_plural = _("提醒事项")
        ordering = ["reminder_list", models.F("due_on").asc(nulls_last=True), "id"]
        constraints = [
            models.UniqueConstraint(fields=["reminder_list", "key"], name="reminder_item_key")
        ]

    def __str__(self):
        return self.title

    @property
    def is_open(self) -> bool:
        return self.done_at is None and not self.resolved_automatically
