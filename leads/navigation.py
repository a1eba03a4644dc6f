"""The leads app's menu entries (registered in LeadsConfig.ready())."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from crm.navigation import OPS, SALES, NavItem, register_nav_item


def register() -> None:
    register_nav_item("sales", NavItem(_("Leads"), "leads:lead-list", SALES, order=30))
    register_nav_item("sales", NavItem(_("Lead pool"), "leads:pool", SALES, order=40))
    register_nav_item("ops", NavItem(_("Campaigns"), "leads:campaign-list", OPS, order=10))
    register_nav_item("ops", NavItem(_("Lead sources"), "leads:source-list", OPS, order=20))
    register_nav_item("ops", NavItem(_("Territories"), "leads:territory-list", OPS, order=30))
    register_nav_item("ops", NavItem(_("Scoring rules"), "leads:scoring-rules", OPS, order=40))
