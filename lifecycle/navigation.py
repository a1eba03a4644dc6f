"""Menu entries of customer success and the lifecycle settings (registered in LifecycleConfig.ready())."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from crm.models import Role
from crm.navigation import ADMIN, CS, EVERYONE, NavItem, register_nav_item

CS_EDITORS = frozenset({Role.ADMIN, Role.CS})


def register() -> None:
    # The lifecycle page: CS, ops, admins and sales managers (crm.navigation.CS); reps do not get it.
    register_nav_item("cs", NavItem(_("Lifecycle"), "lifecycle:overview", CS, order=10))
    register_nav_item("cs", NavItem(_("Renewals"), "lifecycle:renewal-list", CS, order=20))
    # Reps see their own accounts' subscriptions (read only), so everyone has the entry.
    register_nav_item("cs", NavItem(_("Subscriptions"), "lifecycle:subscription-list", EVERYONE, order=30))
    register_nav_item("cs", NavItem(_("At risk"), "lifecycle:at-risk", CS, order=40))
    register_nav_item("cs", NavItem(_("Feedback"), "lifecycle:feedback-list", CS, order=50))
    register_nav_item("cs", NavItem(_("Playbooks"), "lifecycle:playbook-list", CS_EDITORS, order=60))
    register_nav_item("cs", NavItem(_("Health settings"), "lifecycle:health-settings", CS_EDITORS, order=70))
    register_nav_item("admin", NavItem(_("Lifecycle settings"), "lifecycle:settings", ADMIN, order=50))
