from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "imports"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The kinds that ship with the app register themselves on import; later apps register theirs in their own
        # ready(). The core's shared rooms: the menu entry and the demo import (last: it imports into leads).
        from crm.demo import register_demo_seeder
        from imports import kinds, navigation  # noqa: F401
        from imports.demo import seed as seed_demo

        navigation.register()
        register_demo_seeder("imports", seed_demo, order=30)
