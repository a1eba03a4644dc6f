from django.apps import AppConfig


class LeadsConfig(AppConfig):
    name = "leads"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The core's shared rooms: home card, menu entries, demo data (after accounts, before imports).
        from crm.demo import register_demo_seeder
        from leads import home, navigation
        from leads.demo import seed as seed_demo

        home.register()
        navigation.register()
        register_demo_seeder("leads", seed_demo, order=20)
