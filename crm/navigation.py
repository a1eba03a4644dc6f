"""The role-aware menu. The core defines the sections and its own entries; each app adds its entries in its
AppConfig.ready():

    from crm.navigation import SALES, NavItem, register_nav_item
    register_nav_item("sales", NavItem(_("Leads"), "leads:lead-list", SALES, order=30))

An entry names a URL that takes the tenant slug. A registered URL name that does not reverse is a programming
error and raises (NoReverseMatch): the menu never hides a broken entry.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from crm.models import Membership, Role
from crm.types import tenant_request

EVERYONE = frozenset(Role.values)
SALES = frozenset({Role.ADMIN, Role.SALES_MANAGER, Role.SALES_REP, Role.OPS})
OPS = frozenset({Role.ADMIN, Role.OPS, Role.SALES_MANAGER})
CS = frozenset({Role.ADMIN, Role.CS, Role.SALES_MANAGER, Role.OPS})
ADMIN = frozenset({Role.ADMIN})


@dataclass(frozen=True)
class NavItem:
    label: str | Promise
    url_name: str
    roles: frozenset
    order: int = 100


@dataclass
class NavSection:
    key: str
    title: str | Promise
    order: int
    items: list[NavItem]


_SECTIONS: dict[str, NavSection] = {}


def register_nav_section(key: str, title: str | Promise, order: int) -> NavSection:
    if key in _SECTIONS:
        raise ValueError(f"navigation section {key!r} is registered twice")
    _SECTIONS[key] = NavSection(key=key, title=title, order=order, items=[])
    return _SECTIONS[key]


def register_nav_item(section: str, item: NavItem) -> NavItem:
    """Add `item` to `section` (a KeyError for an unknown section: the entry would never show)."""
    items = _SECTIONS[section].items
    if any(existing.url_name == item.url_name for existing in items):
        if item in items:  # the same app registering again (a second ready()) changes nothing
            return item
        raise ValueError(f"navigation entry {item.url_name!r} is registered twice")
    items.append(item)
    items.sort(key=lambda entry: (entry.order, entry.url_name))
    return item


def nav_sections() -> list[NavSection]:
    return sorted(_SECTIONS.values(), key=lambda section: (section.order, section.key))


# The core's sections (in menu order) and its own entries; the apps fill in the rest.
register_nav_section("sales", _("Sales"), 10)
register_nav_section("ops", _("Ops"), 20)
register_nav_section("cs", _("Customer success"), 30)
register_nav_section("admin", pgettext_lazy("navigation section", "Admin"), 40)
register_nav_item("sales", NavItem(_("Home"), "crm:tenant-home", EVERYONE, order=10))
register_nav_item("admin", NavItem(_("Members"), "crm:member-list", ADMIN, order=10))
register_nav_item("admin", NavItem(_("Settings"), "crm:tenant-settings", ADMIN, order=20))
register_nav_item("admin", NavItem(_("Value lists"), "crm:value-lists", ADMIN, order=25))


def navigation_for(request: HttpRequest, membership: Membership) -> list[dict]:
    slug = tenant_request(request).tenant.slug
    home = reverse("crm:tenant-home", kwargs={"slug": slug})
    sections = []
    for section in nav_sections():
        links = []
        for item in section.items:
            if membership.role not in item.roles:
                continue
            url = reverse(item.url_name, kwargs={"slug": slug})
            links.append(
                {
                    "label": item.label,
                    "url": url,
                    "active": request.path.startswith(url) and (url != home or request.path == url),
                }
            )
        if links:
            sections.append({"key": section.key, "title": section.title, "links": links})
    return sections
