"""The deals area in the reader's language: stage choices show the default pipeline's translated names (a tenant's
own names as typed), and messages name stage kinds by their translated labels, never by their codes."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from accounts.filters.opportunities import StageChoiceField as FilterStageChoiceField
from accounts.forms.opportunities import StageChoiceField as FormStageChoiceField
from accounts.models import Stage, StageKind
from accounts.services import opportunities as opportunities_services
from accounts.services import pipelines as pipelines_services
from tests.factories_deals import deal_account

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("field_class", [FilterStageChoiceField, FormStageChoiceField])
def test_stage_choices_use_the_translated_default_names(in_tenant, admin_member, field_class):
    pipelines_services.pipeline_create(
        tenant=in_tenant,
        actor=admin_member.user,
        name="Channel",
        stages=[
            {"name": "Sourced", "probability": "0.2"},
            {"name": "Signed", "probability": "1", "kind": StageKind.WON},
            {"name": "Dropped", "probability": "0", "kind": StageKind.LOST},
        ],
    )
    field = field_class(
        queryset=Stage.objects.select_related("pipeline").order_by("pipeline__order", "order")
    )
    with translation.override("zh-hans"):
        labels = [label for _value, label in field.choices][1:]
    assert labels[:2] == ["销售 · 资格确认", "销售 · 需求分析"]
    assert "Channel · Sourced" in labels  # a tenant's own pipeline and stage names stay as typed


def test_missing_closed_stage_message_names_the_translated_kind(in_tenant, admin_member):
    deal = opportunities_services.opportunity_create(
        tenant=in_tenant,
        actor=admin_member.user,
        account=deal_account(in_tenant, owner=admin_member.user),
        name="Solar",
        amount="10",
    )
    Stage.objects.filter(pipeline=deal.pipeline, kind=StageKind.WON).delete()
    with translation.override("zh-hans"), pytest.raises(ValidationError) as exc:
        opportunities_services.opportunity_mark_won(
            tenant=in_tenant, actor=admin_member.user, opportunity=deal
        )
    assert exc.value.message_dict["stage"] == ["该销售流程没有“赢单”类型的阶段。"]
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        opportunities_services.opportunity_mark_won(
            tenant=in_tenant, actor=admin_member.user, opportunity=deal
        )
    assert exc.value.message_dict["stage"] == ["The pipeline has no Won stage."]


def test_pipeline_kind_check_names_the_translated_kinds(in_tenant, admin_member):
    with translation.override("zh-hans"), pytest.raises(ValidationError) as exc:
        pipelines_services.pipeline_create(
            tenant=in_tenant,
            actor=admin_member.user,
            name="Partners",
            stages=[{"name": "Talking", "probability": "0.3"}],
        )
    message = exc.value.message_dict["kind"][0]
    assert "赢单, 输单" in message and "won" not in message
