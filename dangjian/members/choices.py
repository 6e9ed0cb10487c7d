"""Coded values of the member record, after the national member information system."""

from django.db import models
from django.utils.translation import gettext_lazy as _

# GB/T 3304 (民族), in its order.
ETHNICITIES = [
    "汉族", "蒙古族", "回族", "藏族", "维吾尔族", "苗族", "彝族", "壮族", "布依族", "朝鲜族",
    "满族", "侗族", "瑶族", "白族", "土家族", "哈尼族", "哈萨克族", "傣族", "黎族", "傈僳族",
    "佤族", "畲族", "高山族", "拉祜族", "水族", "东乡族", "纳西族", "景颇族", "柯尔克孜族",
    "土族", "达斡尔族", "仫佬族", "羌族", "布朗族", "撒拉族", "毛南族", "仡佬族", "锡伯族",
    "阿昌族", "普米族", "塔吉克族", "怒族", "乌孜别克族", "俄罗斯族", "鄂温克族", "德昂族",
    "保安族", "裕固族", "京族", "塔塔尔族", "独龙族", "鄂伦春族", "赫哲族", "门巴族", "珞巴族",
    "基诺族", "其他", "外国血统中国籍人士",
]  # fmt: skip
ETHNICITY_CHOICES = [(e, e) for e in ETHNICITIES]


class Gender(models.TextChoices):
    MALE = "male", _("男")
    FEMALE = "female", _("女")


class Education(models.TextChoices):
    POSTGRADUATE = "postgraduate", _("研究生")
    BACHELOR = "bachelor", _("大学本科")
    COLLEGE = "college", _("大学专科")
    SECONDARY_VOCATIONAL = "secondary_vocational", _("中等专科")
    HIGH_SCHOOL = "high_school", _("高中")
    JUNIOR_HIGH_OR_BELOW = "junior_high_or_below", _("初中及以下")


class Occupation(models.TextChoices):
    """工作岗位, grouped as the annual Party statistics are."""

    WORKER = "worker", _("工人")
    FARMER = "farmer", _("农牧渔民")
    ENTERPRISE_STAFF = "enterprise_staff", _("企事业单位管理和专业技术人员")
    CIVIL_SERVANT = "civil_servant", _("党政机关工作人员")
    STUDENT = "student", _("学生")
    MILITARY = "military", _("军人、武警")
    RETIRED = "retired", _("离退休人员")
    OTHER = "other", _("其他职业人员")


class Membership(models.TextChoices):
    FULL = "full", _("正式党员")
    PROBATIONARY = "probationary", _("预备党员")


class Standing(models.TextChoices):
    """Where the member stands: on the roster normally, or in one of the special situations."""

    NORMAL = "normal", _("正常")
    FLOATING = "floating", _("流动党员")
    LOST_CONTACT = "lost_contact", _("失联党员")
    SUSPENDED = "suspended", _("停止党籍")
    LEFT = "left", _("出党")
    TRANSFERRED_OUT = "transferred_out", _("已转出系统外")


# Members who have left the roster are kept on record but counted nowhere.
ON_ROSTER = (Standing.NORMAL, Standing.FLOATING, Standing.LOST_CONTACT)


class Category(models.TextChoices):
    """Regional management category (区域化党建)."""

    RESIDENT = "resident", _("居民党员（直管）")
    IN_SERVICE = "in_service", _("在职党员（双管）")
    FLOATING = "floating", _("流动党员（共管）")
    RETIRED = "retired", _("离退休党员（协管）")
