"""Health components on hand-made data (exact points), weights, threshold, idempotent set-based recompute."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import LifecycleStageName, Tier
from lifecycle.models import FeedbackKind, HealthScore
from lifecycle.services.health import health_recompute, health_settings_update
from tests.factories_cs import FeedbackFactory
from tests.lifecycle.cs_helpers import NOW, customer, overdue_task, renewal_deal, touch

pytestmark = pytest.mark.django_db


def _score(tenant, account) -> HealthScore:  # type: ignore[no-untyped-def]
    return HealthScore.objects.get(tenant=tenant, account=account)


def test_every_component_on_an_at_risk_key_account(in_tenant):
    tenant = in_tenant
    account = customer(tenant, tier=Tier.KEY)
    touch(account, 45)
    FeedbackFactory(account=account, kind=FeedbackKind.NPS, score=9, received_at=NOW - dt.timedelta(days=60))
    FeedbackFactory(account=account, kind=FeedbackKind.NPS, score=4, received_at=NOW - dt.timedelta(days=5))
    renewal_deal(account, "Qualification", days_left=20)
    overdue_task(account)
    overdue_task(account)

    assert health_recompute(tenant=tenant, playbooks=False) == 1
    health = _score(tenant, account)
    parts = health.components
    points = {name: part["points"] for name, part in parts.items()}
    # recency 45 days: 30 % of 20; volume 1: 30 % of 15 (4.5 rounds up); NPS 4: 40 % of 20; fell: 0;
    # Qualification 10 % of 15 (1.5 rounds up); two overdue: 0; 45 days > 2 x 14: 0.
    assert points == {
        "recency": 6,
        "volume": 5,
        "sentiment": 8,
        "trend": 0,
        "renewal": 2,
        "overdue": 0,
        "cadence": 0,
    }
    assert health.score == 21
    assert health.at_risk_since is not None
    assert parts["trend"] | {} == {
        "value": -5,
        "kind": "nps",
        "from": 9,
        "to": 4,
        "points": 0,
        "weight": 10,
        "reason": "nps_fell",
    }
    assert parts["cadence"]["cadence"] == 14 and parts["cadence"]["reason"] == "cadence_missed"
    assert parts["renewal"]["stage"] == "Qualification" and parts["renewal"]["days_left"] == 20
    assert parts["overdue"] == {"value": 2, "points": 0, "weight": 10, "reason": "overdue_tasks"}


def test_a_healthy_account_earns_full_points(in_tenant):
    tenant = in_tenant
    account = customer(tenant, tier=Tier.STANDARD)
    for days in (1, 5, 10, 20, 30, 40):
        touch(account, days)
    FeedbackFactory(account=account, kind=FeedbackKind.CSAT, score=4, received_at=NOW - dt.timedelta(days=50))
    FeedbackFactory(account=account, kind=FeedbackKind.CSAT, score=5, received_at=NOW - dt.timedelta(days=3))
    health_recompute(tenant=tenant, playbooks=False)
    health = _score(tenant, account)
    assert health.score == 100
    assert all(part["reason"] == "" for part in health.components.values())
    assert health.at_risk_since is None


def test_no_data_gives_neutral_feedback_and_zero_touch(in_tenant):
    tenant = in_tenant
    account = customer(tenant)
    health_recompute(tenant=tenant, playbooks=False)
    points = {name: part["points"] for name, part in _score(tenant, account).components.items()}
    # no touch: 0; no feedback: 50 % of sentiment and trend; no renewal and no overdue task: full.
    assert points == {
        "recency": 0,
        "volume": 0,
        "sentiment": 10,
        "trend": 5,
        "renewal": 15,
        "overdue": 10,
        "cadence": 0,
    }
    assert _score(tenant, account).score == 40


def test_only_customer_accounts_get_a_score_and_leaving_removes_it(in_tenant):
    tenant = in_tenant
    prospect = customer(tenant, stage=LifecycleStageName.ACQUISITION)
    churned = customer(tenant, stage=LifecycleStageName.CHURN)
    health_recompute(tenant=tenant, playbooks=False)
    assert not HealthScore.objects.filter(account=prospect).exists()
    assert HealthScore.objects.filter(account=churned).exists()
    type(churned).objects.filter(pk=churned.pk).update(lifecycle_stage=LifecycleStageName.ACQUISITION)
    health_recompute(tenant=tenant, playbooks=False)
    assert not HealthScore.objects.filter(account=churned).exists()


def test_weights_change_the_points(in_tenant):
    tenant = in_tenant
    account = customer(tenant)
    health_settings_update(
        tenant=tenant,
        actor=None,
        weight_recency=0,
        weight_volume=0,
        weight_sentiment=50,
        weight_trend=50,
        weight_renewal=0,
        weight_overdue=0,
        weight_cadence=0,
    )
    health_recompute(tenant=tenant, playbooks=False)
    assert _score(tenant, account).score == 50  # both feedback parts neutral (50 %)


def test_weights_must_add_up_to_100_and_every_error_is_reported(in_tenant):
    with pytest.raises(ValidationError) as caught:
        health_settings_update(
            tenant=in_tenant, actor=None, weight_recency=30, cadence_key=0, at_risk_threshold=101
        )
    errors = caught.value.message_dict
    assert set(errors) == {"weights", "cadence_key", "at_risk_threshold"}


def test_the_threshold_decides_at_risk_and_recovery_clears_it(in_tenant):
    tenant = in_tenant
    account = customer(tenant)  # scores 40 with no data
    health_recompute(tenant=tenant, playbooks=False)
    assert _score(tenant, account).at_risk_since is None  # 40 is not under 40
    health_settings_update(tenant=tenant, actor=None, at_risk_threshold=41)
    health_recompute(tenant=tenant, playbooks=False)
    since = _score(tenant, account).at_risk_since
    assert since is not None
    health_recompute(tenant=tenant, playbooks=False)
    assert _score(tenant, account).at_risk_since == since  # the episode keeps its start
    health_settings_update(tenant=tenant, actor=None, at_risk_threshold=40)
    health_recompute(tenant=tenant, playbooks=False)
    assert _score(tenant, account).at_risk_since is None


def test_recompute_is_idempotent_and_set_based(in_tenant):
    tenant = in_tenant
    accounts = [customer(tenant) for _ in range(5)]
    for account in accounts:
        touch(account, 3)
    health_recompute(tenant=tenant, playbooks=False)
    first = {h.account_id: (h.score, h.components) for h in HealthScore.objects.all()}
    with CaptureQueriesContext(connection) as queries:
        health_recompute(tenant=tenant, playbooks=False)
    second = {h.account_id: (h.score, h.components) for h in HealthScore.objects.all()}
    assert first == second and len(first) == 5
    inserts = [q for q in queries.captured_queries if "INSERT INTO lifecycle_healthscore" in q["sql"]]
    assert len(inserts) == 1  # one statement for every account, not one per account
    assert len(queries.captured_queries) < 10
