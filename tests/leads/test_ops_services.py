"""Services of the ops area: assignment by territory + round-robin, scoring, set-based rescore."""

from __future__ import annotations

from collections import Counter

import pytest

from crm.models import MembershipStatus, Role
from leads.models import Lead, ScoringCategory, ScoringField, SourceKind, Territory
from leads.services import assignment as assignment_services
from leads.services import scoring as scoring_services
from tests.factories_ops import (
    LeadSourceFactory,
    ScoringRuleFactory,
    TerritoryFactory,
    TerritoryMemberFactory,
)

pytestmark = pytest.mark.django_db


def make_lead(tenant, **kwargs) -> Lead:
    return Lead.objects.create(tenant=tenant, first_name="Li", last_name="Lei", **kwargs)


def territory_with(tenant, members, **kwargs) -> Territory:
    territory = TerritoryFactory(tenant=tenant, **kwargs)
    for position, membership in enumerate(members):
        TerritoryMemberFactory(tenant=tenant, territory=territory, user=membership.user, position=position)
    return territory


def test_round_robin_spreads_evenly(tenant, member, in_tenant):
    reps = [member(role=Role.SALES_REP) for _ in range(3)]
    territory = territory_with(tenant, reps, regions=["East China"])
    owners = []
    for _ in range(9):
        lead = make_lead(tenant, region="east china")
        owners.append(assignment_services.lead_assign_by_rules(tenant=tenant, lead=lead))
        lead.refresh_from_db()
        assert lead.territory_id == territory.pk
    assert [o.pk for o in owners[:3]] == [r.user_id for r in reps]
    assert Counter(o.pk for o in owners) == Counter({r.user_id: 3 for r in reps})


def test_manual_owner_wins_and_does_not_advance(tenant, member, in_tenant):
    reps = [member(), member()]
    territory = territory_with(tenant, reps)
    manager = member(role=Role.SALES_MANAGER)
    lead = make_lead(tenant, owner=manager.user)
    assert assignment_services.lead_assign_by_rules(tenant=tenant, lead=lead) == manager.user
    lead.refresh_from_db()
    territory.refresh_from_db()
    assert lead.territory_id is None
    assert territory.rr_position == 0


def test_priority_criteria_and_inactive_members(tenant, member, in_tenant):
    east, south, anyone = member(), member(), member()
    gone = member()
    territory_with(tenant, [east], name="East", priority=10, regions=["East"], industries=["Software"])
    territory_with(tenant, [gone], name="Gone", priority=5, regions=["East"])
    territory_with(tenant, [south], name="South", priority=20, regions=["South"], size_bands=["51-200"])
    territory_with(tenant, [anyone], name="Catch-all", priority=99)
    territory_with(tenant, [member()], name="Off", priority=1, is_active=False)
    gone.status = MembershipStatus.DEACTIVATED
    gone.save()

    def owner_for(**kw):
        return assignment_services.lead_assign_by_rules(tenant=tenant, lead=make_lead(tenant, **kw))

    assert owner_for(region="East", industry="software") == east.user
    assert owner_for(region="East", industry="Retail") == anyone.user
    assert owner_for(region="South", size_band="51-200") == south.user
    assert owner_for(region="South", size_band="1-10") == anyone.user


def test_no_match_leaves_lead_in_pool(tenant, member, in_tenant):
    territory_with(tenant, [member()], regions=["North"])
    lead = make_lead(tenant, region="South")
    assert assignment_services.lead_assign_by_rules(tenant=tenant, lead=lead) is None
    lead.refresh_from_db()
    assert lead.owner_id is None and lead.territory_id is None


def test_rescore_one_lead(tenant, in_tenant):
    inbound = LeadSourceFactory(tenant=tenant, kind=SourceKind.INBOUND)
    ScoringRuleFactory(tenant=tenant, field=ScoringField.INDUSTRY, value="Software", points=20)
    ScoringRuleFactory(tenant=tenant, field=ScoringField.TITLE, value="director", points=15)
    ScoringRuleFactory(
        tenant=tenant,
        category=ScoringCategory.ENGAGEMENT,
        field=ScoringField.SOURCE_KIND,
        value="inbound",
        points=25,
    )
    ScoringRuleFactory(tenant=tenant, field=ScoringField.REGION, value="North", points=50, is_active=False)
    lead = make_lead(tenant, industry="software", title="IT Director", region="North", source=inbound)
    scoring_services.lead_rescore(tenant=tenant, lead=lead)
    lead.refresh_from_db()
    assert lead.score == 60
    assert sorted(r["points"] for r in lead.score_reasons) == [15, 20, 25]
    assert all(set(r) == {"rule", "points"} for r in lead.score_reasons)


def _scoring_dataset(tenant, rng_seed: int = 7):
    import random
    from datetime import timedelta

    from django.utils import timezone

    from accounts.models import Activity

    rng = random.Random(rng_seed)
    inbound = LeadSourceFactory(tenant=tenant, kind=SourceKind.INBOUND)
    incentive = LeadSourceFactory(tenant=tenant, kind=SourceKind.INCENTIVE)
    rules = [
        (ScoringField.INDUSTRY, "Software", 20),
        (ScoringField.INDUSTRY, "manufacturing", 15),
        (ScoringField.REGION, "East China", 10),
        (ScoringField.SIZE_BAND, "201-1000", 15),
        (ScoringField.SIZE_BAND, "1-10", -10),
        (ScoringField.TITLE, "Director", 15),
        (ScoringField.TITLE, "CTO", 25),
        (ScoringField.TITLE, "intern", -30),
        (ScoringField.SOURCE_KIND, "inbound", 25),
        (ScoringField.SOURCE_KIND, "incentive", 5),
        (ScoringField.RECENT_ACTIVITIES, "2", 10),
        (ScoringField.RECENT_ACTIVITIES, "4", 20),
    ]
    for field, value, points in rules:
        scoring_services.scoring_rule_create(
            tenant=tenant, actor=None, field=field, value=value, points=points
        )
    ScoringRuleFactory(tenant=tenant, field=ScoringField.REGION, value="North", points=40, is_active=False)
    now = timezone.now()
    leads = []
    for i in range(60):
        lead = make_lead(
            tenant,
            industry=rng.choice(["software", "Software ", "Manufacturing", "Retail", ""]),
            region=rng.choice(["east china", "East China", "South", ""]),
            size_band=rng.choice(["", "1-10", "201-1000", "51-200"]),
            title=rng.choice(["CTO", "IT Director", "Intern", "Sales intern director", "", "cto office"]),
            source=rng.choice([inbound, incentive, None]),
            deleted_at=now if i % 17 == 0 else None,
        )
        for _ in range(rng.randint(0, 6)):
            Activity.objects.create(
                tenant=tenant,
                kind="call",
                subject="Call",
                lead=lead,
                done=rng.random() < 0.8,
                occurred_at=now - timedelta(days=rng.randint(0, 60)),
                deleted_at=now if rng.random() < 0.1 else None,
            )
        leads.append(lead)
    return leads


def test_set_based_rescore_equals_per_lead(tenant, in_tenant):
    leads = _scoring_dataset(tenant)
    expected = {}
    for lead in leads:
        scoring_services.lead_rescore(tenant=tenant, lead=lead)
        expected[lead.pk] = (lead.score, lead.score_reasons)
    assert len({score for score, _ in expected.values()}) > 5  # the data really exercises the rules
    assert any(score == 0 for score, _ in expected.values())
    Lead.objects.update(score=-1, score_reasons=[{"rule": "stale", "points": 1}])
    changed = scoring_services.leads_rescore_all(tenant=tenant)
    assert changed == len(leads)
    got = {lead.pk: (lead.score, lead.score_reasons) for lead in Lead.objects.all()}
    assert got == expected
    assert scoring_services.leads_rescore_all(tenant=tenant) == 0  # idempotent: nothing left to change


def test_rescore_all_with_no_rules_clears_scores(tenant, in_tenant):
    lead = make_lead(tenant, score=70, score_reasons=[{"rule": "old", "points": 70}])
    assert scoring_services.leads_rescore_all(tenant=tenant) == 1
    lead.refresh_from_db()
    assert (lead.score, lead.score_reasons) == (0, [])


def test_rescore_all_stays_in_tenant(tenant, other_tenant):
    from crm.tenancy import tenant_context

    with tenant_context(other_tenant):
        theirs = make_lead(other_tenant, industry="Software", score=3)
    with tenant_context(tenant):
        ScoringRuleFactory(tenant=tenant, field=ScoringField.INDUSTRY, value="Software", points=30)
        mine = make_lead(tenant, industry="Software")
        scoring_services.leads_rescore_all(tenant=tenant)
        mine.refresh_from_db()
        assert mine.score == 30
    with tenant_context(other_tenant):
        theirs.refresh_from_db()
        assert theirs.score == 3


def test_rule_change_enqueues_rescore(tenant, in_tenant, django_capture_on_commit_callbacks):
    lead = make_lead(tenant, industry="Software")
    with django_capture_on_commit_callbacks(execute=True):
        rule = scoring_services.scoring_rule_create(
            tenant=tenant, actor=None, field=ScoringField.INDUSTRY, value="software", points=40
        )
    lead.refresh_from_db()
    assert lead.score == 40
    with django_capture_on_commit_callbacks(execute=True):
        scoring_services.scoring_rule_update(tenant=tenant, actor=None, rule=rule, points=25)
    lead.refresh_from_db()
    assert lead.score == 25
    with django_capture_on_commit_callbacks(execute=True):
        scoring_services.scoring_rule_delete(tenant=tenant, actor=None, rule=rule)
    lead.refresh_from_db()
    assert (lead.score, lead.score_reasons) == (0, [])


def test_scoring_preview_counts_open_leads_above_50(tenant, in_tenant):
    for _ in range(3):
        make_lead(tenant, industry="Software")
    make_lead(tenant, industry="Software", status="converted")
    make_lead(tenant, industry="Retail")
    draft = scoring_services.rule_specs(
        tenant=tenant,
        rules=[ScoringRuleFactory.build(tenant=tenant, field="industry", value="Software", points=60)],
    )
    assert scoring_services.scoring_preview_count(tenant=tenant, rules=draft) == 3
    assert scoring_services.scoring_preview_count(tenant=tenant, rules=[]) == 0


@pytest.mark.parametrize(
    ("field", "value", "points", "error_field"),
    [
        ("size_band", "huge", 10, "value"),
        ("source_kind", "cold", 10, "value"),
        ("recent_activities", "two", 10, "value"),
        ("recent_activities", "0", 10, "value"),
        # A digit that is not a decimal digit: str.isdigit() accepts it, int() does not.
        ("recent_activities", "\u00b2", 10, "value"),
        ("title", "  ", 10, "value"),
        ("industry", "Software", 0, "points"),
        ("industry", "Software", 500, "points"),
        ("nope", "x", 10, "field"),
    ],
)
def test_scoring_rule_validation(tenant, in_tenant, field, value, points, error_field):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as exc:
        scoring_services.scoring_rule_create(
            tenant=tenant, actor=None, field=field, value=value, points=points
        )
    assert error_field in exc.value.message_dict


def test_scoring_rule_category_follows_field(tenant, in_tenant):
    rule = scoring_services.scoring_rule_create(
        tenant=tenant, actor=None, field="recent_activities", value="03", points=5
    )
    assert (rule.category, rule.value) == (ScoringCategory.ENGAGEMENT, "3")
    rule = scoring_services.scoring_rule_create(
        tenant=tenant, actor=None, field="title", value=" VP ", points=5
    )
    assert (rule.category, rule.value) == (ScoringCategory.FIT, "VP")


@pytest.mark.django_db(transaction=True)
def test_round_robin_is_even_under_concurrent_creates(tenant, member):
    """Four workers create and assign leads at the same time: the row lock on the territory keeps the turns
    exact (each of three reps gets the same number), which an unlocked read-modify-write would not."""
    import threading

    from django.db import connection

    from crm.tenancy import tenant_context

    reps = [member(role=Role.SALES_REP) for _ in range(3)]
    with tenant_context(tenant):
        territory_with(tenant, reps, regions=["East"])
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            for _ in range(6):
                with tenant_context(tenant):
                    lead = make_lead(tenant, region="East")
                    assignment_services.lead_assign_by_rules(tenant=tenant, lead=lead)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with tenant_context(tenant):
        counts = Counter(Lead.objects.values_list("owner_id", flat=True))
    assert counts == Counter({r.user_id: 8 for r in reps})
