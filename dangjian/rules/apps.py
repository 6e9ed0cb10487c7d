from django.apps import AppConfig


class RulesConfig(AppConfig):
    name = "dangjian.rules"
    verbose_name = "规则"
