"""The imports app's menu entry (registered in ImportsConfig.ready())."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from crm.models import Role
from crm.navigation import NavItem, register_nav_item


def register() -> None:
    register_nav_item(
        "ops",
        NavItem(_("Import and export"), "imports:import-list", frozenset({Role.ADMIN, Role.OPS}), order=50),
    )
