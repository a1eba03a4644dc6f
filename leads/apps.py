from django.apps import AppConfig


class LeadsConfig(AppConfig):
    name = "leads"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from accounts.links import LeadLink, register_lead_link
        from accounts.signals import (
            activities_logged_many,
            activities_logging_many,
            activity_logged,
            activity_logging,
        )
        from leads.models import Lead
        from leads.receivers import (
            on_activities_logged_many,
            on_activities_logging_many,
            on_activity_logged,
            on_activity_logging,
        )
        from leads.selectors.leads import lead_get, lead_queryset, lead_visibility_q
        from leads.selectors.setup_roles import can_read_sources

        # accounts reads leads (visibility of activities and deals, the lead pickers) only through this link.
        register_lead_link(
            LeadLink(
                queryset=lead_queryset,
                visibility_q=lead_visibility_q,
                get=lead_get,
                model=Lead,
                can_read_sources=can_read_sources,
            )
        )
        # An activity logged on a lead: the edit-rights check before, the lead's clock and score after.
        activity_logging.connect(on_activity_logging, dispatch_uid="leads.activity_logging")
        activities_logging_many.connect(
            on_activities_logging_many, dispatch_uid="leads.activities_logging_many"
        )
        activity_logged.connect(on_activity_logged, dispatch_uid="leads.activity_logged")
        activities_logged_many.connect(on_activities_logged_many, dispatch_uid="leads.activities_logged_many")

        # The core's shared rooms: home card, menu entries, demo data (after accounts, before imports).
        from crm.demo import register_demo_seeder
        from leads import home, navigation
        from leads.demo import seed as seed_demo

        home.register()
        navigation.register()
        register_demo_seeder("leads", seed_demo, order=20)

        from crm.search import register_search_kind
        from leads.selectors.search import LEAD_SEARCH

        register_search_kind(LEAD_SEARCH)

        # Where the company's value lists are stored (a value in use is retired, never deleted).
        from crm.value_lists import register_field_usage
        from leads.models import Campaign

        register_field_usage("channel", Campaign, "channel")
        for key in ("industry", "region", "size_band"):
            register_field_usage(key, Lead, key)
        # Territories route by size bands, and scoring rules score them: a band they use is retired, not deleted.
        from crm.value_lists import register_usage
        from leads.models import ScoringRule, Territory

        register_usage(
            "size_band",
            lambda tenant, value: Territory.objects.filter(
                tenant=tenant, size_bands__contains=[value]
            ).exists(),
        )
        register_usage(
            "size_band",
            lambda tenant, value: ScoringRule.objects.filter(
                tenant=tenant, field="size_band", value=value
            ).exists(),
        )
