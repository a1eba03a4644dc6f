"""Lifecycle's panels on the account, deal and contact pages (accounts.panels; registered in
LifecycleConfig.ready()). accounts does not import lifecycle: the pages show what is registered here.

Every panel runs only after the page found the record visible, reads through lifecycle's selectors and costs a
fixed number of queries; the account page's panels share the account's subscriptions and the lifecycle settings
through the page memo.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from accounts.models import Account, Contact, Opportunity, OpportunityType, StageKind
from accounts.panels import (
    SIDE,
    PanelPage,
    register_account_panel,
    register_contact_panel,
    register_deal_panel,
)
from crm.dates import tenant_today
from crm.models import Role
from crm.navigation import EVERYONE
from lifecycle.forms.renewals import NextTermForm
from lifecycle.forms.survey import SurveyLinkForm
from lifecycle.models import LifecycleSettings, Subscription
from lifecycle.selectors.feedback import can_edit_feedback, feedback_for_contact
from lifecycle.selectors.health import health_component_rows, health_for_account, health_reasons
from lifecycle.selectors.stages import first_customer_dates, lifecycle_history
from lifecycle.selectors.subscriptions import (
    can_edit_subscriptions,
    classify_contracts,
    subscription_list,
    subscriptions_visible_for,
)
from lifecycle.services.renewals import next_term_proposal
from lifecycle.services.settings import lifecycle_settings_get
from lifecycle.views.feedback import feedback_partial_context

PANEL_FEEDBACK_ROWS = 5
# Who makes survey links (the survey-link view's roles).
SURVEY_LINK_ROLES = frozenset({Role.ADMIN, Role.CS})


def _settings(page: PanelPage) -> LifecycleSettings:
    return page.once("lifecycle.settings", lambda: lifecycle_settings_get(tenant=page.request.tenant))


def _subscriptions(page: PanelPage) -> list[Subscription] | None:
    """The account's live subscriptions the member sees, newest first; None when its subscriptions are not
    theirs to see (a rep on another's shared account)."""

    def load() -> list[Subscription] | None:
        account: Account = page.record
        request = page.request
        if not subscriptions_visible_for(request.membership, account):
            return None
        return list(
            subscription_list(tenant=request.tenant, membership=request.membership)
            .filter(account_id=account.pk)
            .order_by("-start_date", "-id")
        )

    return page.once("lifecycle.subscriptions", load)


def lifecycle_panel(page: PanelPage) -> dict[str, Any]:
    """Stage now, its history with causes in words, first customer date and MRR now."""
    request, account = page.request, page.record
    subscriptions = _subscriptions(page)
    mrr = None
    if subscriptions is not None:
        today = tenant_today(request.tenant)
        mrr = sum((s.mrr for s in subscriptions if s.is_active_on(today)), Decimal(0))
    history = list(lifecycle_history(tenant=request.tenant, account_id=account.pk))
    history.reverse()  # newest first on the page
    first = first_customer_dates(tenant=request.tenant, account_ids=[account.pk]).get(account.pk)
    return {
        "account": account,
        "lifecycle_history": history,
        "first_customer_date": first,
        "mrr_now": mrr,
    }


def subscriptions_panel(page: PanelPage) -> dict[str, Any] | None:
    request, account = page.request, page.record
    subscriptions = _subscriptions(page)
    if subscriptions is None:
        return None
    grace_days = _settings(page).grace_days
    return {
        "account": account,
        "subscriptions": subscriptions,
        "can_edit_subscriptions": can_edit_subscriptions(request.membership),
        "history": classify_contracts(
            subscriptions, today=tenant_today(request.tenant), grace_days=grace_days
        ),
    }


def health_panel(page: PanelPage) -> dict[str, Any]:
    request, account = page.request, page.record
    score = health_for_account(tenant=request.tenant, membership=request.membership, account=account)
    threshold = _settings(page).health_at_risk_threshold
    return {
        "account": account,
        "health": score,
        "health_threshold": threshold,
        "health_components": health_component_rows(score.components) if score else [],
        "health_reasons": health_reasons(score.components) if score else [],
    }


def feedback_panel(page: PanelPage) -> dict[str, Any]:
    return feedback_partial_context(page.request, page.record)


def contact_feedback_panel(page: PanelPage) -> dict[str, Any] | None:
    request, contact = page.request, page.record
    rows = feedback_for_contact(tenant=request.tenant, membership=request.membership, contact_id=contact.pk)
    return {
        "contact": contact,
        "feedback_rows": rows[:PANEL_FEEDBACK_ROWS],
        "can_edit": can_edit_feedback(request.membership),
    }


def survey_link_panel(page: PanelPage) -> dict[str, Any]:
    contact: Contact = page.record
    return {"contact": contact, "form": SurveyLinkForm(), "survey_url": None}


def next_term_panel(page: PanelPage) -> dict[str, Any] | None:
    """On a renewal deal: the subscription it renews (plan, term, MRR at stake); once won, the next term that
    subscription proposes (accept form for cs and admins). One query (two when won: the successor check)."""
    request, deal = page.request, page.record
    deal_: Opportunity = deal
    if deal_.type != OpportunityType.RENEWAL or deal_.deleted_at is not None:
        return None
    subscription = (
        subscription_list(tenant=request.tenant, membership=request.membership)
        .filter(renewal_opportunity_id=deal_.pk)
        .first()
    )
    if subscription is None:
        return None
    proposal = next_term_proposal(subscription) if deal_.stage.kind == StageKind.WON else None
    can_edit = can_edit_subscriptions(request.membership)
    return {
        "subscription": subscription,
        "proposal": proposal,
        "form": NextTermForm.for_proposal(proposal) if proposal is not None and can_edit else None,
    }


def register() -> None:
    register_account_panel(
        "lifecycle", 10, "lifecycle/partials/_account_lifecycle.html", lifecycle_panel, EVERYONE, column=SIDE
    )
    register_account_panel(
        "health", 20, "lifecycle/partials/_account_health.html", health_panel, EVERYONE, column=SIDE
    )
    register_account_panel(
        "subscriptions", 10, "lifecycle/partials/_subscription_list.html", subscriptions_panel, EVERYONE
    )
    register_account_panel("feedback", 20, "lifecycle/partials/_feedback_list.html", feedback_panel, EVERYONE)
    register_deal_panel(
        "next_term", 10, "lifecycle/partials/_subscription_next_term.html", next_term_panel, EVERYONE
    )
    register_contact_panel(
        "feedback",
        10,
        "lifecycle/partials/_contact_feedback.html",
        contact_feedback_panel,
        EVERYONE,
        column=SIDE,
    )
    register_contact_panel(
        "survey_link",
        20,
        "lifecycle/partials/_contact_survey.html",
        survey_link_panel,
        SURVEY_LINK_ROLES,
        column=SIDE,
    )
