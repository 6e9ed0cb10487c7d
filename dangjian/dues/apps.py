from django.apps import AppConfig


class DuesConfig(AppConfig):
    name = "dangjian.dues"
    verbose_name = "党费"

    def ready(self):
        from . import flags  # noqa: F401  registers the arrears flags
