from django.apps import AppConfig


class MembersConfig(AppConfig):
    name = "dangjian.members"
    verbose_name = "党员"

    def ready(self):
        from . import flags, rules, signals  # noqa: F401  (register flags, rules, checks)
