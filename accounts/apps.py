from django.apps import AppConfig


def _create_default_pipeline(sender, tenant, **kwargs):  # type: ignore[no-untyped-def]
    from accounts.services.pipelines import pipeline_create_default

    pipeline_create_default(tenant=tenant)


class AccountsConfig(AppConfig):
    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Where the company's value lists are stored (a value in use is retired, never deleted).
        from accounts.models import Account, Opportunity
        from crm.value_lists import register_field_usage

        for key in ("industry", "region", "size_band"):
            register_field_usage(key, Account, key)
        register_field_usage("lost_reason", Opportunity, "lost_reason")
        from accounts.services.rates import on_reporting_currency_changed
        from crm.signals import tenant_created, tenant_currency_changed

        # Every new tenant starts with the default `Sales` pipeline (DESIGN.md).
        tenant_created.connect(_create_default_pipeline, dispatch_uid="accounts.default_pipeline")
        # A new reporting currency: the rate table is re-expressed in it and every deal repriced (or refused).
        tenant_currency_changed.connect(
            on_reporting_currency_changed, dispatch_uid="accounts.currency_rebase"
        )

        # The core's shared rooms: home cards, menu entries, demo data (first: leads convert into accounts).
        from accounts import home, navigation
        from accounts.demo import seed as seed_demo
        from crm.demo import register_demo_seeder

        home.register()
        navigation.register()
        register_demo_seeder("accounts", seed_demo, order=10)

        from accounts.selectors.search import ACCOUNT_SEARCH, CONTACT_SEARCH, DEAL_SEARCH
        from crm.search import register_search_kind

        for kind in (ACCOUNT_SEARCH, CONTACT_SEARCH, DEAL_SEARCH):
            register_search_kind(kind)
