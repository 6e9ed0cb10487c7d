"""Coded values of organizational life (组织生活)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class MeetingKind(models.TextChoices):
    """The kinds of 三会一课 and the rest of organizational life (支部工作条例 2018 ch.5)."""

    GENERAL_MEETING = "general_meeting", _("支部党员大会")
    COMMITTEE_MEETING = "committee_meeting", _("支委会")
    GROUP_MEETING = "group_meeting", _("党小组会")
    LECTURE = "lecture", _("党课")
    THEME_DAY = "theme_day", _("主题党日")
    LIFE_MEETING = "life_meeting", _("组织生活会")
    APPRAISAL = "appraisal", _("民主评议党员")
    TALK = "talk", _("谈心谈话")


class MeetingStatus(models.TextChoices):
    PLANNED = "planned", _("计划召开")
    HELD = "held", _("已召开")


class Period(models.TextChoices):
    MONTH = "month", _("每月")
    QUARTER = "quarter", _("每季度")
    YEAR = "year", _("每年")


class Presence(models.TextChoices):
    UNMARKED = "unmarked", _("未登记")
    PRESENT = "present", _("出席")
    LEAVE = "leave", _("请假")
    ABSENT = "absent", _("缺席")


class AppraisalStage(models.TextChoices):
    """民主评议党员 goes self → mutual → democratic vote (支部工作条例 art.18)."""

    SELF = "self", _("个人自评")
    MUTUAL = "mutual", _("党员互评")
    VOTE = "vote", _("民主测评")
    DONE = "done", _("评议完成")


class AppraisalGrade(models.TextChoices):
    EXCELLENT = "excellent", _("优秀")
    QUALIFIED = "qualified", _("合格")
    BASIC = "basic", _("基本合格")
    UNQUALIFIED = "unqualified", _("不合格")
