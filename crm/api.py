"""API of the tenancy core: token, members, the current user."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from django.contrib.auth import authenticate
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle
from rest_framework.views import APIView

from crm import selectors, services
from crm.cache import throttle_cache
from crm.clientaddr import client_ip
from crm.models import ApiToken, Membership, MembershipStatus, Tenant, hash_token
from crm.permissions import IsTenantAdmin, IsTenantMember
from crm.schema import request_example, response_example
from crm.serializers import (
    ApiTokenSerializer,
    MemberCreatedSerializer,
    MemberCreateSerializer,
    MembershipSerializer,
    MemberUpdateSerializer,
    TokenRequestSerializer,
    TokenResponseSerializer,
)
from crm.tenancy import schema_queryset, tenant_context
from crm.types import tenant_request

MEMBER_VALUE = {
    "id": 12,
    "email": "rep@acme.test",
    "full_name": "Li Na",
    "role": "sales_rep",
    "team": "East",
    "status": "active",
    "created_at": "2026-01-05T10:00:00+08:00",
}
MEMBER_RESPONSE_EXAMPLE = response_example("A sales rep", MEMBER_VALUE)


class TokenThrottle(AnonRateThrottle):
    """Per client address: the socket's, or the one our trusted proxies add (settings.TRUSTED_PROXY_COUNT,
    crm/clientaddr.py, the rule DRF applies with NUM_PROXIES), never an address the client writes into
    X-Forwarded-For."""

    scope = "token"
    cache = throttle_cache  # counted per process while Redis is down (crm.cache.OutageFallbackCache)

    def get_ident(self, request: Request) -> str:
        return client_ip(request._request)


class TokenAccountThrottle(SimpleRateThrottle):
    """Per account tried (the email, normalised and hashed), from any address: guessing one account's password
    from many addresses is throttled too."""

    scope = "token_account"
    cache = throttle_cache

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        data = request.data
        email = data.get("email") if isinstance(data, Mapping) else None
        if not isinstance(email, str) or not email.strip():
            return None
        ident = hashlib.sha256(email.strip().lower().encode()).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": ident}


class TokenObtainView(APIView):
    """Exchange email, password and tenant slug for a token that works only for that tenant."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [TokenThrottle, TokenAccountThrottle]

    @extend_schema(
        request=TokenRequestSerializer,
        responses={200: TokenResponseSerializer},
        examples=[
            OpenApiExample(
                "Demo admin",
                value={"email": "admin@acme.test", "password": "demo-pass-1234", "tenant": "acme"},
                request_only=True,
            ),
            OpenApiExample(
                "Named, for 30 days",
                value={
                    "email": "admin@acme.test",
                    "password": "demo-pass-1234",
                    "tenant": "acme",
                    "name": "Nightly ERP sync",
                    "expires_in_days": 30,
                },
                request_only=True,
            ),
            response_example(
                "A token for acme",
                {"token": "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b", "expires_at": "2027-03-03T08:00:00Z"},
            ),
        ],
        tags=["auth"],
        description="The token works for its tenant only, until `expires_at` (then 401 with code "
        "`token_expired`). List and revoke your tokens at /api/v1/t/<slug>/tokens/ or on the API tokens page.",
    )
    def post(self, request: Request) -> Response:
        data = TokenRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        invalid = Response(
            {"detail": _("Invalid email, password or tenant.")}, status=status.HTTP_400_BAD_REQUEST
        )
        user = authenticate(
            request._request,
            username=data.validated_data["email"].lower(),
            password=data.validated_data["password"],
        )
        if user is None:
            return invalid
        tenant = Tenant.objects.filter(slug=data.validated_data["tenant"], is_active=True).first()
        if tenant is None:
            return invalid
        with tenant_context(tenant, user_id=user.pk):
            if not Membership.objects.filter(user=user, status=MembershipStatus.ACTIVE).exists():
                return invalid
            key = services.api_token_create(
                tenant=tenant,
                user=user,
                name=data.validated_data.get("name", ""),
                days=data.validated_data.get("expires_in_days"),
            )
            token = ApiToken.objects.get(key_hash=hash_token(key))
        return Response(TokenResponseSerializer({"token": key, "expires_at": token.expires_at}).data)


@extend_schema_view(
    list=extend_schema(examples=[MEMBER_RESPONSE_EXAMPLE]),
    retrieve=extend_schema(examples=[MEMBER_RESPONSE_EXAMPLE]),
)
class MemberViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Members of the tenant. Admins invite (POST) and change role, team or status (PATCH)."""

    serializer_class = MembershipSerializer
    filterset_fields = ["role", "status"]

    def get_permissions(self):  # type: ignore[no-untyped-def]
        if self.action in {"list", "retrieve"}:
            return [IsTenantMember()]
        return [IsTenantAdmin()]

    def get_queryset(self) -> QuerySet[Membership]:
        if getattr(self, "swagger_fake_view", False):
            return schema_queryset(Membership)
        return selectors.member_list(tenant=tenant_request(self.request).tenant)

    @extend_schema(
        request=MemberCreateSerializer,
        responses={201: MemberCreatedSerializer},
        examples=[
            OpenApiExample(
                "Invite a rep",
                value={"email": "li.lei@acme.test", "role": "sales_rep", "team": "East"},
                request_only=True,
            ),
            response_example(
                "Invited",
                {
                    **MEMBER_VALUE,
                    "id": 19,
                    "email": "li.lei@acme.test",
                    "full_name": "",
                    "status": "invited",
                    "created_at": "2026-11-29T10:00:00+08:00",
                    "invitation_url": "http://127.0.0.1:8000/invite/acme/Zq3v8Yl1rT0dKx4m/",
                },
            ),
        ],
    )
    def create(self, request: Request, slug: str) -> Response:
        req = tenant_request(request)
        tenant = req.tenant
        payload = MemberCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        membership, invitation = services.member_invite(
            tenant=tenant,
            actor=req.user,
            email=payload.validated_data["email"],
            role=payload.validated_data["role"],
            team_name=payload.validated_data.get("team"),
            base_url=request.build_absolute_uri("/"),
        )
        data = {
            **MembershipSerializer(membership).data,
            "invitation_url": services.invitation_url(
                invitation, tenant, base_url=request.build_absolute_uri("/")
            ),
        }
        return Response(data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=MemberUpdateSerializer,
        responses={200: MembershipSerializer},
        examples=[
            request_example("Promote to sales manager", {"role": "sales_manager", "team": "East"}),
            response_example("Promoted", {**MEMBER_VALUE, "role": "sales_manager"}),
        ],
    )
    def partial_update(self, request: Request, slug: str, pk: str) -> Response:
        membership = self.get_object()
        payload = MemberUpdateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        req = tenant_request(request)
        membership = services.membership_update(
            tenant=req.tenant,
            actor=req.user,
            membership=membership,
            role=payload.validated_data.get("role"),
            team_name=payload.validated_data.get("team"),
            status=payload.validated_data.get("status"),
        )
        return Response(MembershipSerializer(membership).data)


class MeView(APIView):
    @extend_schema(responses={200: MembershipSerializer}, examples=[MEMBER_RESPONSE_EXAMPLE])
    def get(self, request: Request, slug: str) -> Response:
        return Response(MembershipSerializer(tenant_request(request).membership).data)


API_TOKEN_VALUE = {
    "id": 31,
    "name": "Nightly ERP sync",
    "created_at": "2026-11-02T01:00:00Z",
    "last_used_at": "2026-12-02T18:05:00Z",
    "expires_at": "2027-01-31T01:00:00Z",
    "current": True,
}


@extend_schema_view(
    list=extend_schema(
        tags=["auth"],
        description="Your own API tokens in this tenant (name, created, last used, expires); keys are never shown "
        "again. `last_used_at` is updated at most once a minute.",
        examples=[response_example("A token", API_TOKEN_VALUE)],
    ),
    destroy=extend_schema(
        tags=["auth"],
        description="Revoke one of your own tokens: it stops working at once (revoking the token you call with "
        "is allowed). Another person's token is a 404.",
    ),
)
class ApiTokenViewSet(mixins.ListModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """The member's own API tokens: list and revoke (create one with POST /api/v1/auth/token/ or on the page)."""

    serializer_class = ApiTokenSerializer
    pagination_class = None

    def get_queryset(self) -> QuerySet[ApiToken]:
        if getattr(self, "swagger_fake_view", False):
            return ApiToken.objects.none()
        req = tenant_request(self.request)
        return selectors.api_tokens_for(tenant=req.tenant, user=req.user)

    def perform_destroy(self, instance: ApiToken) -> None:
        req = tenant_request(self.request)
        services.api_token_revoke(tenant=req.tenant, user=req.user, token_id=instance.pk)
