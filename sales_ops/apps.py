from django.apps import AppConfig


class SalesOpsConfig(AppConfig):
    name = "sales_ops"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Sales ops"

    def ready(self) -> None:
        from sales_ops import receivers
        from sales_ops.import_kinds import quotas as quota_import

        receivers.connect()
        quota_import.register_kind()

        from sales_ops import navigation

        navigation.register()
