from django.apps import AppConfig


class LifecycleConfig(AppConfig):
    name = "lifecycle"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from accounts.signals import opportunity_stage_changed
        from lifecycle import home, navigation, panels, receivers
        from lifecycle.import_kinds import feedback, subscriptions
        from lifecycle.services.renewals import on_deal_stage_changed

        # Stage and health triggers; lost renewals -> churn reason on the subscription.
        receivers.connect()
        opportunity_stage_changed.connect(on_deal_stage_changed, dispatch_uid="lifecycle.renewal_lost")
        # The `subscriptions` and `feedback` import kinds, menu entries.
        feedback.register_kind()
        subscriptions.register_kind()
        navigation.register()
        # The customer-success cards of the tenant home (crm.home).
        home.register()
        # Lifecycle on the account, deal and contact pages (accounts.panels).
        panels.register()
        # Demo data (after the accounts and leads seeds, whose won deals and activities it reads; before imports).
        from crm.demo import register_demo_seeder
        from lifecycle.demo import seed as seed_demo

        register_demo_seeder("lifecycle", seed_demo, order=25)
