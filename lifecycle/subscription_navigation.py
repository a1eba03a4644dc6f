"""Menu entries of subscriptions, renewals and the lifecycle settings (registered in LifecycleConfig.ready())."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from crm.navigation import ADMIN, CS, EVERYONE, NavItem, register_nav_item


def register() -> None:
    register_nav_item("cs", NavItem(_("Renewals"), "lifecycle:renewal-list", CS, order=20))
    # Reps see their own accounts' subscriptions (read only), so everyone has the entry.
    register_nav_item("cs", NavItem(_("Subscriptions"), "lifecycle:subscription-list", EVERYONE, order=30))
    register_nav_item("admin", NavItem(_("Lifecycle"), "lifecycle:settings", ADMIN, order=50))
