"""Serializers and examples of the opportunity (deal) API: the deal, create and update bodies, stage moves,
won and lost, conflicts, the deal's contacts and its stage history."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample, extend_schema_serializer
from rest_framework import serializers

from accounts.api.fields import LeadField
from accounts.links import lead_link
from accounts.models import (
    Account,
    ForecastCategory,
    Opportunity,
    OpportunityContact,
    OpportunityType,
    Pipeline,
    Stage,
    StageChange,
)
from accounts.selectors import opportunities as opportunities_selectors
from crm.api_fields import SaneDateField, SaneDateTimeField, ValueListsMixin
from crm.models import User, ValueListKey
from crm.money import AMOUNT_TOO_LARGE, MAX_AMOUNT
from crm.schema import response_example

OPPORTUNITY_VALUE: dict[str, Any] = {
    "id": 9,
    "external_id": "",
    "name": "MES rollout phase 2",
    "account": 17,
    "account_name": "Shanghai Huaxin Technology Co., Ltd.",
    "lead": 120,
    "source": 3,
    "campaign": 11,
    "type": "new_business",
    "amount": "300000.00",
    "currency": "CNY",
    "amount_reporting": "300000.00",
    "pipeline": 1,
    "pipeline_name": "Sales",
    "stage": 3,
    "stage_name": "Proposal",
    "stage_kind": "open",
    "probability": "0.500",
    "forecast_category": "best_case",
    "expected_close_date": "2026-12-20",
    "created_at": "2026-11-02T09:00:00+08:00",
    "updated_at": "2026-11-20T10:15:00+08:00",
    "closed_at": None,
    "lost_reason": "",
    "next_step": "Send the revised quote",
    "next_step_date": "2026-11-24",
    "owner": 7,
    "owner_email": "rep@acme.test",
    "version": 4,
    "deleted_at": None,
}


OPPORTUNITY_RESPONSE_EXAMPLE = response_example("A deal in Proposal", OPPORTUNITY_VALUE)


OPPORTUNITY_WON_RESPONSE_EXAMPLE = response_example(
    "Won",
    {
        **OPPORTUNITY_VALUE,
        "stage": 5,
        "stage_name": "Closed won",
        "stage_kind": "won",
        "probability": "1.000",
        "forecast_category": "closed",
        "closed_at": "2026-11-28T16:40:00+08:00",
        "updated_at": "2026-11-28T16:40:00+08:00",
        "version": 5,
    },
)


OPPORTUNITY_LOST_RESPONSE_EXAMPLE = response_example(
    "Lost",
    {
        **OPPORTUNITY_VALUE,
        "stage": 6,
        "stage_name": "Closed lost",
        "stage_kind": "lost",
        "probability": "0.000",
        "forecast_category": "omitted",
        "closed_at": "2026-11-28T16:40:00+08:00",
        "updated_at": "2026-11-28T16:40:00+08:00",
        "lost_reason": "Competitor",
        "version": 5,
    },
)


LOST_REASON_HELP = "A value of the company's lost reason list (value-lists/lost_reason/)."
LOST_REASON_FIELDS = {"lost_reason": ValueListKey.LOST_REASON}


@extend_schema_serializer(examples=[OPPORTUNITY_RESPONSE_EXAMPLE])
class OpportunitySerializer(serializers.ModelSerializer):
    account_name = serializers.CharField(source="account.name", read_only=True)
    stage_name = serializers.CharField(source="stage.name", read_only=True)
    stage_kind = serializers.CharField(source="stage.kind", read_only=True)
    pipeline_name = serializers.CharField(source="pipeline.name", read_only=True)
    owner_email = serializers.EmailField(source="owner.email", read_only=True, allow_null=True)

    class Meta:
        model = Opportunity
        fields = [
            "id",
            "external_id",
            "name",
            "account",
            "account_name",
            "lead",
            "source",
            "campaign",
            "type",
            "amount",
            "currency",
            "amount_reporting",
            "pipeline",
            "pipeline_name",
            "stage",
            "stage_name",
            "stage_kind",
            "probability",
            "forecast_category",
            "expected_close_date",
            "created_at",
            "updated_at",
            "closed_at",
            "lost_reason",
            "next_step",
            "next_step_date",
            "owner",
            "owner_email",
            "version",
            "deleted_at",
        ]
        read_only_fields = fields


class _TenantChoicesMixin:
    """Relation fields limited to what the member may see: anything else is 'does not exist'."""

    def _limit_choices(self) -> None:
        request = self.context.get("request")  # type: ignore[attr-defined]
        tenant = getattr(request, "tenant", None)
        membership = getattr(request, "membership", None)
        fields = self.fields  # type: ignore[attr-defined]
        if tenant is None or membership is None:
            return
        if "account" in fields:
            fields["account"].queryset = opportunities_selectors.deal_account_choices(
                tenant=tenant, membership=membership
            )
        if "pipeline" in fields:
            fields["pipeline"].queryset = Pipeline.objects.filter(tenant=tenant)
        if "stage" in fields:
            fields["stage"].queryset = Stage.objects.filter(tenant=tenant).select_related("pipeline")
        if "owner" in fields:
            owners = opportunities_selectors.deal_owner_choices(tenant=tenant, membership=membership).values(
                "user_id"
            )
            fields["owner"].queryset = User.objects.filter(pk__in=owners)
        if "lead" in fields:
            fields["lead"].queryset = lead_link().queryset(tenant=tenant, membership=membership)


class OpportunityCreateSerializer(ValueListsMixin, _TenantChoicesMixin, serializers.Serializer):
    list_fields = LOST_REASON_FIELDS

    account = serializers.PrimaryKeyRelatedField(queryset=Account.objects.none())
    name = serializers.CharField(max_length=200)
    amount = serializers.DecimalField(
        max_digits=None,
        decimal_places=2,
        min_value=0,
        max_value=MAX_AMOUNT,
        error_messages={"max_value": AMOUNT_TOO_LARGE},
    )
    currency = serializers.CharField(
        max_length=3, required=False, help_text="Default: the reporting currency."
    )
    type = serializers.ChoiceField(choices=OpportunityType.choices, default=OpportunityType.NEW_BUSINESS)
    pipeline = serializers.PrimaryKeyRelatedField(
        queryset=Pipeline.objects.none(), required=False, help_text="Default: the default pipeline."
    )
    stage = serializers.PrimaryKeyRelatedField(
        queryset=Stage.objects.none(), required=False, help_text="Default: the pipeline's first open stage."
    )
    probability = serializers.DecimalField(
        max_digits=4, decimal_places=3, min_value=0, max_value=1, required=False, allow_null=True
    )
    forecast_category = serializers.ChoiceField(choices=ForecastCategory.choices, required=False)
    expected_close_date = SaneDateField(required=False, allow_null=True)
    owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.none(), required=False, help_text="User id; default: you."
    )
    lead = LeadField(required=False, allow_null=True)
    created_at = SaneDateTimeField(required=False, help_text="Historical creation time (imports).")
    closed_at = SaneDateTimeField(required=False, allow_null=True)
    lost_reason = serializers.CharField(
        max_length=200, required=False, allow_blank=True, help_text=LOST_REASON_HELP
    )
    next_step = serializers.CharField(
        max_length=200, required=False, allow_blank=True, help_text="What happens next on the deal."
    )
    next_step_date = SaneDateField(required=False, allow_null=True)
    external_id = serializers.CharField(max_length=100, required=False, allow_blank=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._limit_choices()


class OpportunityUpdateSerializer(ValueListsMixin, _TenantChoicesMixin, serializers.Serializer):
    list_fields = LOST_REASON_FIELDS

    version = serializers.IntegerField(help_text="The version you loaded; a stale one answers 409.")
    name = serializers.CharField(max_length=200, required=False)
    account = serializers.PrimaryKeyRelatedField(queryset=Account.objects.none(), required=False)
    type = serializers.ChoiceField(choices=OpportunityType.choices, required=False)
    amount = serializers.DecimalField(
        max_digits=None,
        decimal_places=2,
        min_value=0,
        max_value=MAX_AMOUNT,
        error_messages={"max_value": AMOUNT_TOO_LARGE},
        required=False,
    )
    currency = serializers.CharField(max_length=3, required=False)
    pipeline = serializers.PrimaryKeyRelatedField(queryset=Pipeline.objects.none(), required=False)
    stage = serializers.PrimaryKeyRelatedField(queryset=Stage.objects.none(), required=False)
    probability = serializers.DecimalField(
        max_digits=4, decimal_places=3, min_value=0, max_value=1, required=False, allow_null=True
    )
    forecast_category = serializers.ChoiceField(choices=ForecastCategory.choices, required=False)
    expected_close_date = SaneDateField(required=False, allow_null=True)
    owner = serializers.PrimaryKeyRelatedField(queryset=User.objects.none(), required=False, allow_null=True)
    lost_reason = serializers.CharField(
        max_length=200, required=False, allow_blank=True, help_text=LOST_REASON_HELP
    )
    next_step = serializers.CharField(
        max_length=200, required=False, allow_blank=True, help_text="What happens next on the deal."
    )
    next_step_date = SaneDateField(required=False, allow_null=True)
    external_id = serializers.CharField(max_length=100, required=False, allow_blank=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._limit_choices()


class MoveSerializer(serializers.Serializer):
    stage = serializers.IntegerField(help_text="A stage id of the deal's pipeline.")
    version = serializers.IntegerField(required=False, allow_null=True)
    lost_reason = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        help_text="Required for a lost stage: " + LOST_REASON_HELP,
    )


class WonSerializer(serializers.Serializer):
    version = serializers.IntegerField(required=False, allow_null=True)


class LostSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200, help_text=LOST_REASON_HELP)
    version = serializers.IntegerField(required=False, allow_null=True)


class ConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    current = serializers.DictField(help_text="The deal's current values, version included.")


OPPORTUNITY_CONTACT_RESPONSE_EXAMPLE = response_example(
    "The economic buyer",
    {
        "id": 21,
        "contact": 118,
        "contact_name": "Wei Zhang",
        "contact_email": "wei.zhang@huaxin.example.cn",
        "role": "Economic buyer",
        "is_primary": True,
    },
)


@extend_schema_serializer(examples=[OPPORTUNITY_CONTACT_RESPONSE_EXAMPLE])
class OpportunityContactSerializer(serializers.ModelSerializer):
    contact_name = serializers.CharField(source="contact.full_name", read_only=True)
    contact_email = serializers.CharField(source="contact.email", read_only=True)

    class Meta:
        model = OpportunityContact
        fields = ["id", "contact", "contact_name", "contact_email", "role", "is_primary"]
        read_only_fields = ["id", "contact_name", "contact_email"]


class OpportunityContactWriteSerializer(serializers.Serializer):
    contact = serializers.IntegerField(help_text="A contact of the deal's account.")
    role = serializers.CharField(max_length=100, required=False, allow_blank=True)
    is_primary = serializers.BooleanField(required=False, default=False)


class StageChangeSerializer(serializers.ModelSerializer):
    from_stage_name = serializers.CharField(source="from_stage.name", read_only=True, allow_null=True)
    to_stage_name = serializers.CharField(source="to_stage.name", read_only=True, allow_null=True)
    actor = serializers.SerializerMethodField()

    class Meta:
        model = StageChange
        fields = [
            "id",
            "changed_at",
            "from_stage",
            "from_stage_name",
            "to_stage",
            "to_stage_name",
            "actor",
            "amount",
            "probability",
        ]
        read_only_fields = fields

    def get_actor(self, change: StageChange) -> dict | None:
        if change.actor is None:
            return None
        return {"id": change.actor.pk, "name": change.actor.display_name}


HISTORY_EXAMPLE = OpenApiExample(
    "Amount raised and moved to Proposal",
    # One entry: drf-spectacular wraps a many=True example in the list itself.
    value={
        "when": "2026-11-20T10:15:00+08:00",
        "who": {"id": 7, "name": "Li Wei"},
        "action": "updated",
        "changes": [
            {"field": "Amount", "old": "250000.00", "new": "300000.00"},
            {"field": "Stage", "old": "Needs analysis", "new": "Proposal"},
        ],
    },
    response_only=True,
)


STAGE_HISTORY_EXAMPLE = OpenApiExample(
    "Moved to Proposal",
    # One entry: drf-spectacular wraps a many=True example in the list itself.
    value={
        "id": 31,
        "changed_at": "2026-11-20T10:15:00+08:00",
        "from_stage": 2,
        "from_stage_name": "Needs analysis",
        "to_stage": 3,
        "to_stage_name": "Proposal",
        "actor": {"id": 7, "name": "Li Wei"},
        "amount": "300000.00",
        "probability": "0.500",
    },
    response_only=True,
)


class OpportunityContactUpdateSerializer(serializers.Serializer):
    role = serializers.CharField(max_length=100, required=False, allow_blank=True)
    is_primary = serializers.BooleanField(required=False)
