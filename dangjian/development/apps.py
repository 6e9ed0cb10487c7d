from django.apps import AppConfig


class DevelopmentConfig(AppConfig):
    name = "dangjian.development"
    verbose_name = "发展党员"

    def ready(self):
        from . import flags  # noqa: F401  registers the development flags
