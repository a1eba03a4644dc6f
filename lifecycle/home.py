"""The customer-success cards of the tenant home (registered in LifecycleConfig.ready()), for cs and admins: MRR
now, renewals due this month, at-risk accounts (the top few by MRR with their reasons), onboarding accounts past
their first weeks without a touch, and the NPS trend. Read through lifecycle's selectors in a fixed number of
queries."""

from __future__ import annotations

import json
from typing import Any

from django.utils.formats import date_format
from django.utils.translation import gettext as _

from crm.home import FIGURES, MAIN, HomeCard, HomePage, register_home_card
from crm.models import Role
from lifecycle.selectors import cs_home
from lifecycle.selectors.health import at_risk_list, health_reasons

CS_HOME = frozenset({Role.CS, Role.ADMIN})
TOP_ROWS = 5


def cs_figures_card(page: HomePage) -> dict[str, Any]:
    """MRR now, renewals due this month (count, MRR at stake), latest NPS (this month's, or the last month that
    had answers)."""
    trend = _nps_trend(page)
    latest = next((row for row in reversed(trend) if row["nps"] is not None), None)
    return {
        "mrr": cs_home.mrr_now(tenant=page.tenant, membership=page.membership),
        "renewals": cs_home.renewals_due_this_month(tenant=page.tenant, membership=page.membership),
        "nps": latest,
    }


def at_risk_card(page: HomePage) -> dict[str, Any]:
    qs = at_risk_list(tenant=page.tenant, membership=page.membership)
    top = list(qs[:TOP_ROWS])
    count = qs.count()
    return {
        "count": count,
        "rows": [{"health": health, "reasons": health_reasons(health.components)[:2]} for health in top],
    }


def onboarding_card(page: HomePage) -> dict[str, Any]:
    qs = cs_home.onboarding_untouched(tenant=page.tenant, membership=page.membership)
    top = list(qs[:TOP_ROWS])
    count = qs.count()
    return {"count": count, "rows": top, "days": cs_home.ONBOARDING_TOUCH_DAYS}


def _nps_trend(page: HomePage) -> list[dict[str, Any]]:
    return page.once(
        "lifecycle.nps_trend", lambda: cs_home.nps_trend(tenant=page.tenant, membership=page.membership)
    )


def nps_card(page: HomePage) -> dict[str, Any]:
    trend = _nps_trend(page)
    chart = {
        "label": _("NPS"),
        "labels": [date_format(row["month"], "M") for row in trend],
        "data": [row["nps"] for row in trend],
    }
    return {"trend": trend, "chart_json": json.dumps(chart)}


def register() -> None:
    register_home_card(
        HomeCard("cs_figures", 30, CS_HOME, "lifecycle/home/_cs_figures.html", cs_figures_card, FIGURES)
    )
    register_home_card(
        HomeCard("cs_at_risk", 15, CS_HOME, "lifecycle/home/_at_risk.html", at_risk_card, MAIN)
    )
    register_home_card(
        HomeCard("cs_onboarding", 16, CS_HOME, "lifecycle/home/_onboarding.html", onboarding_card, MAIN)
    )
    register_home_card(HomeCard("cs_nps", 17, CS_HOME, "lifecycle/home/_nps.html", nps_card, MAIN))
