"""Issue 10: company sizes are the company's own list (crm.value_lists), also where leads are routed and scored.
A team that added "1000+" to its size bands can route leads of that size to a territory and score them; a band
not in its list is refused (forms, API, services); a band that territories or rules use is retired, not deleted;
a retired band stays valid on the territory that has it."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from crm.models import Role, ValueListKey
from crm.tenancy import tenant_context
from crm.value_lists import value_add, value_delete, value_update
from leads.models import ScoringField
from leads.services.assignment import territory_for
from leads.services.scoring import scoring_rule_create
from leads.services.territories import territory_create, territory_update
from tests.factories_leads import LeadFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def big_band(tenant, admin_member):
    with tenant_context(tenant):
        value_add(tenant=tenant, actor=admin_member.user, list_key=ValueListKey.SIZE_BAND, value="1000+")
    return "1000+"


def test_a_territory_routes_and_a_rule_scores_the_companys_own_size_band(
    tenant, admin_member, member, big_band
):
    rep = member(Role.SALES_REP)
    with tenant_context(tenant):
        territory = territory_create(
            tenant=tenant,
            actor=admin_member.user,
            name="Enterprise",
            size_bands=[big_band],
            member_ids=[rep.user_id],
        )
        found, members = territory_for(tenant=tenant, region="", industry="", size_band=big_band)
        assert (found, members) == (territory, [rep.user_id])
        rule = scoring_rule_create(
            tenant=tenant, actor=admin_member.user, field=ScoringField.SIZE_BAND, value=big_band, points=25
        )
        assert rule.value == big_band
        # a band named by its label (or in another case) is stored as the list spells its value
        by_label = scoring_rule_create(
            tenant=tenant, actor=admin_member.user, field=ScoringField.SIZE_BAND, value="1–10", points=-5
        )
        assert by_label.value == "1-10"
        named = territory_create(tenant=tenant, actor=admin_member.user, name="Small", size_bands=["1–10"])
        assert named.size_bands == ["1-10"]
        with pytest.raises(ValidationError) as refused:
            territory_create(tenant=tenant, actor=admin_member.user, name="Huge", size_bands=["huge"])
        assert "size_bands" in refused.value.message_dict
        with pytest.raises(ValidationError):
            scoring_rule_create(
                tenant=tenant, actor=admin_member.user, field=ScoringField.SIZE_BAND, value="huge", points=5
            )
        # in use by the territory and the rule: retired, not deleted; the territory keeps it
        with pytest.raises(ValidationError):
            value_delete(
                tenant=tenant, actor=admin_member.user, list_key=ValueListKey.SIZE_BAND, value=big_band
            )
        value_update(
            tenant=tenant,
            actor=admin_member.user,
            list_key=ValueListKey.SIZE_BAND,
            value=big_band,
            retired=True,
        )
        territory_update(tenant=tenant, actor=admin_member.user, territory=territory, priority=5)
        with pytest.raises(ValidationError):
            territory_create(tenant=tenant, actor=admin_member.user, name="Late", size_bands=[big_band])


def test_the_forms_and_the_api_offer_and_take_the_companys_size_bands(
    tenant, admin_member, client_for, api_client_for, big_band
):
    client = client_for(admin_member)
    page = client.get(reverse("leads:territory-create", args=[tenant.slug]))
    assert page.status_code == 200 and 'value="1000+"' in page.content.decode()
    rules = client.get(reverse("leads:scoring-rules", args=[tenant.slug]))
    assert 'value="1000+"' in rules.content.decode()
    api = api_client_for(admin_member)
    created = api.post(
        f"/api/v1/t/{tenant.slug}/territories/",
        {"name": "Enterprise", "size_bands": [big_band], "member_ids": [admin_member.user_id]},
        format="json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["size_bands"] == [big_band]
    refused = api.post(
        f"/api/v1/t/{tenant.slug}/territories/", {"name": "X", "size_bands": ["huge"]}, format="json"
    )
    assert refused.status_code == 400 and "size_bands" in refused.json()
    with tenant_context(tenant):
        lead = LeadFactory(tenant=tenant, size_band=big_band)
    test = client.get(
        reverse("leads:territory-test", args=[tenant.slug]),
        {"size_band": lead.size_band},
        HTTP_HX_REQUEST="true",
    )
    assert test.status_code == 200 and "Enterprise" in test.content.decode()
