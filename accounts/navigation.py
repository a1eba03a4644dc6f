"""The accounts app's menu entries (registered in AccountsConfig.ready())."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from crm.navigation import ADMIN, EVERYONE, SALES, NavItem, register_nav_item


def register() -> None:
    register_nav_item("sales", NavItem(_("My tasks"), "accounts:task-list", EVERYONE, order=20))
    register_nav_item("sales", NavItem(_("Accounts"), "accounts:account-list", EVERYONE, order=50))
    register_nav_item("sales", NavItem(_("Contacts"), "accounts:contact-list", EVERYONE, order=60))
    register_nav_item("sales", NavItem(_("Deals"), "accounts:opportunity-list", EVERYONE, order=70))
    register_nav_item("sales", NavItem(_("Deal board"), "accounts:opportunity-board", SALES, order=80))
    register_nav_item("admin", NavItem(_("Pipelines"), "accounts:pipeline-list", ADMIN, order=30))
    register_nav_item("admin", NavItem(_("Exchange rates"), "accounts:rate-list", ADMIN, order=40))
