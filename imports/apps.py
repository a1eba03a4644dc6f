from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "imports"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The kinds that ship with the app register themselves; later apps register theirs in their own ready().
        from imports import kinds  # noqa: F401
