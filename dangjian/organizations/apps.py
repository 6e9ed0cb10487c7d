from django.apps import AppConfig


class OrganizationsConfig(AppConfig):
    name = "dangjian.organizations"
    verbose_name = "党组织"

    def ready(self):
        from . import flags, rules  # noqa: F401  (register the flags and rules)
