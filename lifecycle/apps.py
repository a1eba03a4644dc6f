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

        # Subscriptions and renewals: the `subscriptions` import kind, menu entries, lost renewals -> churn reason.
        from accounts.signals import opportunity_stage_changed
        from lifecycle import subscription_import, subscription_navigation
        from lifecycle.services.renewals import on_deal_stage_changed

        subscription_import.register_kind()
        subscription_navigation.register()
        opportunity_stage_changed.connect(on_deal_stage_changed, dispatch_uid="lifecycle.renewal_lost")
