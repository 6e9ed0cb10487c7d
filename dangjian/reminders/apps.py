from django.apps import AppConfig


class RemindersConfig(AppConfig):
    name = "dangjian.reminders"
    verbose_name = "重点工作提醒"
