from django.apps import AppConfig


class LifecycleConfig(AppConfig):
    name = "lifecycle"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from lifecycle import receivers

        receivers.connect()

        # Customer success: health triggers, the `feedback` import kind, menu entries.
        from lifecycle import feedback_import, health_navigation, health_receivers

        health_receivers.connect()
        feedback_import.register_kind()
        health_navigation.register()
