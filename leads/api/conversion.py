"""API action of lead conversion on /leads/<id>/convert/. Mixed into leads.api.leads.LeadViewSet (which
provides `_lead`, `_fresh` and `_writer`)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from crm.schema import response_example
from crm.types import TenantRequest
from leads.api.actions_base import LeadActionsBase
from leads.api.errors import service_errors
from leads.api.lead_serializers import LEAD_VALUE, LeadConvertSerializer, LeadSerializer
from leads.services import conversion as conversion_services


class LeadConversionActions(LeadActionsBase):
    """The convert action of LeadViewSet."""

    @extend_schema(
        tags=["leads"],
        request=LeadConvertSerializer,
        responses={200: LeadSerializer},
        examples=[
            OpenApiExample(
                "Convert with a new account, contact and deal",
                value={
                    "deal_name": "Huaxin – pilot",
                    "deal_amount": "120000.00",
                    "deal_close_date": "2027-03-31",
                },
                request_only=True,
            ),
            OpenApiExample(
                "Link an existing account, no deal",
                value={"account": 42, "create_deal": False},
                request_only=True,
            ),
            response_example(
                "Converted",
                {
                    **LEAD_VALUE,
                    "status": "converted",
                    "converted_at": "2026-11-25T15:20:00+08:00",
                    "converted_account": 17,
                    "converted_contact": 118,
                    "converted_opportunity": 9,
                    "version": 4,
                },
            ),
        ],
    )
    @action(detail=True, methods=["post"])
    def convert(self, request: TenantRequest, slug: str, pk: str) -> Response:
        """Convert in one transaction: account (link or create), contact (link or create), optional deal."""
        from accounts.selectors import visibility as visibility_selectors

        self._writer()
        lead = self._lead()
        payload = LeadConvertSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        account = contact = None
        if data.get("account"):
            account = (
                visibility_selectors.account_queryset(tenant=request.tenant, membership=request.membership)
                .filter(pk=data["account"])
                .first()
            )
            if account is None:
                raise serializers.ValidationError({"account": [_("No such account.")]})
        if data.get("contact"):
            contact = (
                visibility_selectors.contact_queryset(tenant=request.tenant, membership=request.membership)
                .filter(pk=data["contact"])
                .first()
            )
            if contact is None:
                raise serializers.ValidationError({"contact": [_("No such contact.")]})
        service_errors(
            lambda: conversion_services.lead_convert(
                tenant=request.tenant,
                actor=request.user,
                lead=lead,
                account=account,
                account_name=data["account_name"],
                account_domain=data["account_domain"],
                contact=contact,
                create_deal=data["create_deal"],
                deal_name=data["deal_name"],
                deal_amount=data["deal_amount"],
                deal_currency=data["deal_currency"] or None,
                deal_close_date=data["deal_close_date"],
            )
        )
        return self._fresh(lead)
