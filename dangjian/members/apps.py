from django.apps import AppConfig


class MembersConfig(AppConfig):
    name = "dangjian.members"
    verbose_name = "党员"

    def ready(self):
        from . import flags, rules, signals, transfers  # noqa: F401  (flags, rules, checks)
