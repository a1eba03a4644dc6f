from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = _("CRM core")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from crm import rls, schema, signals  # noqa: F401

        post_migrate.connect(rls.apply_rls, dispatch_uid="crm.apply_rls")
