"""The role-aware menu. Apps add entries here by URL name; an entry whose URL does not exist yet is skipped."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
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


SECTIONS: list[tuple[str, str | Promise, list[NavItem]]] = [
    (
        "sales",
        _("Sales"),
        [
            NavItem(_("Home"), "crm:tenant-home", EVERYONE),
            NavItem(_("My tasks"), "accounts:task-list", EVERYONE),
            NavItem(_("Leads"), "leads:lead-list", SALES),
            NavItem(_("Lead pool"), "leads:pool", SALES),
            NavItem(_("Accounts"), "accounts:account-list", EVERYONE),
            NavItem(_("Contacts"), "accounts:contact-list", EVERYONE),
            NavItem(_("Deals"), "accounts:opportunity-list", EVERYONE),
            NavItem(_("Deal board"), "accounts:opportunity-board", SALES),
        ],
    ),
    (
        "ops",
        _("Ops"),
        [
            NavItem(_("Campaigns"), "leads:campaign-list", OPS),
            NavItem(_("Lead sources"), "leads:source-list", OPS),
            NavItem(_("Territories"), "leads:territory-list", OPS),
            NavItem(_("Scoring rules"), "leads:scoring-rules", OPS),
            NavItem(_("Import and export"), "imports:import-list", frozenset({Role.ADMIN, Role.OPS})),
            NavItem(_("Dashboards"), "sales_ops:dashboard", OPS),
        ],
    ),
    (
        "cs",
        _("Customer success"),
        [
            NavItem(_("Customers"), "lifecycle:customer-list", CS),
            NavItem(_("Renewals"), "lifecycle:renewal-list", CS),
        ],
    ),
    (
        "admin",
        pgettext_lazy("navigation section", "Admin"),
        [
            NavItem(_("Members"), "crm:member-list", ADMIN),
            NavItem(_("Settings"), "crm:tenant-settings", ADMIN),
            NavItem(_("Pipelines"), "accounts:pipeline-list", ADMIN),
            NavItem(_("Exchange rates"), "accounts:rate-list", ADMIN),
        ],
    ),
]


def navigation_for(request: HttpRequest, membership: Membership) -> list[dict]:
    slug = tenant_request(request).tenant.slug
    sections = []
    for key, title, items in SECTIONS:
        links = []
        for item in items:
            if membership.role not in item.roles:
                continue
            try:
                url = reverse(item.url_name, kwargs={"slug": slug})
            except NoReverseMatch:
                continue
            links.append(
                {
                    "label": item.label,
                    "url": url,
                    "active": request.path.startswith(url)
                    and (url != reverse("crm:tenant-home", kwargs={"slug": slug}) or request.path == url),
                }
            )
        if links:
            sections.append({"key": key, "title": title, "links": links})
    return sections
