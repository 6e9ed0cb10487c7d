from django.apps import AppConfig


class OrglifeConfig(AppConfig):
    name = "dangjian.orglife"
    verbose_name = "组织生活"

    def ready(self):
        from . import flags  # noqa: F401  registers the participation flags
