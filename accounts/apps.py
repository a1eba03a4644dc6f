from django.apps import AppConfig


def _create_default_pipeline(sender, tenant, **kwargs):  # type: ignore[no-untyped-def]
    from accounts.services.deals import pipeline_create_default

    pipeline_create_default(tenant=tenant)


class AccountsConfig(AppConfig):
    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from crm.signals import tenant_created

        # Every new tenant starts with the default `Sales` pipeline (DESIGN.md).
        tenant_created.connect(_create_default_pipeline, dispatch_uid="accounts.default_pipeline")
