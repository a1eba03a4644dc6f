"""The leads app's card on the tenant home (registered in LeadsConfig.ready()): the member's own open leads."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q

from crm.home import FIGURES, HomeCard, HomePage, register_home_card
from crm.navigation import SALES
from leads.selectors import leads as lead_selectors


def lead_figures_card(page: HomePage) -> dict[str, Any]:
    mine = lead_selectors.lead_queryset(tenant=page.tenant, membership=page.membership).filter(
        owner_id=page.membership.user_id
    )
    counts = mine.aggregate(
        new=Count("pk", filter=Q(status="new")),
        working=Count("pk", filter=Q(status="working")),
        qualified=Count("pk", filter=Q(status__in=["mql", "sql"])),
    )
    return {"lead_counts": counts}


def register() -> None:
    register_home_card(
        HomeCard("lead_figures", 20, SALES, "leads/home/_lead_figures.html", lead_figures_card, FIGURES)
    )
