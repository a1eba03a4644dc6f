"""Menu entries of the dashboards (registered in SalesOpsConfig.ready())."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from crm.navigation import EVERYONE, OPS, NavItem, register_nav_item, register_nav_section


def register() -> None:
    from crm.navigation import nav_sections

    if not any(section.key == "dashboards" for section in nav_sections()):
        register_nav_section("dashboards", _("Dashboards"), 15)
    # Everyone reads dashboards (reps their own and the company's numbers, cs the company's); quotas are edited
    # by admins, ops and managers.
    register_nav_item("dashboards", NavItem(_("Funnel"), "sales_ops:dashboard-funnel", EVERYONE, order=10))
    register_nav_item(
        "dashboards", NavItem(_("Pipeline"), "sales_ops:dashboard-pipeline", EVERYONE, order=20)
    )
    register_nav_item("dashboards", NavItem(_("Reps"), "sales_ops:dashboard-reps", EVERYONE, order=30))
    register_nav_item(
        "dashboards", NavItem(_("Unit economics"), "sales_ops:dashboard-economics", EVERYONE, order=40)
    )
    register_nav_item("dashboards", NavItem(_("Forecast"), "sales_ops:forecast", EVERYONE, order=50))
    register_nav_item("dashboards", NavItem(_("Quotas"), "sales_ops:quota-grid", OPS, order=60))
