"""What the API of lead sources, campaigns, territories and scoring rules shares: the role permission (sources
and campaigns are read by admin, ops, managers and reps; territories and scoring rules by admin, ops and
managers; only admin and ops write; any other role gets 404, as if the route did not exist), the base viewset
(reads through the selectors, writes through the services), the active-member field and the funnel figures."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework import serializers, status, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from crm.models import MembershipStatus, User
from crm.tenancy import schema_queryset
from crm.types import TenantRequest
from leads.models import LeadSource
from leads.selectors import setup_roles as setup_roles_selectors

WRITE_ACTIONS = frozenset({"create", "update", "partial_update", "destroy"})


class SetupRolePermission(BasePermission):
    """Read roles per viewset, write roles admin/ops; anyone else gets 404 (the route does not exist for them)."""

    def has_permission(self, request, view) -> bool:  # type: ignore[no-untyped-def]
        membership = getattr(request, "membership", None)
        if not (request.user and request.user.is_authenticated and membership):
            return False
        roles = setup_roles_selectors.EDIT_ROLES if view.action in WRITE_ACTIONS else view.read_roles
        if membership.role not in roles:
            raise NotFound
        return True


class ActiveMemberField(serializers.PrimaryKeyRelatedField):
    """A user id that must belong to an active member of the request's tenant (else "does not exist")."""

    def get_queryset(self) -> QuerySet[User]:
        tenant = self.context["request"].tenant
        return User.objects.filter(memberships__tenant=tenant, memberships__status=MembershipStatus.ACTIVE)


class FunnelSerializer(serializers.Serializer):
    leads = serializers.IntegerField()
    mql = serializers.IntegerField()
    sql = serializers.IntegerField()
    converted = serializers.IntegerField()
    won = serializers.IntegerField(help_text="Leads with a won deal originated from them.")
    won_amount = serializers.DecimalField(
        max_digits=18,
        decimal_places=2,
        help_text="Amount of those won deals, in the tenant's reporting currency.",
    )
    lead_to_mql_rate = serializers.FloatField(allow_null=True)
    mql_to_sql_rate = serializers.FloatField(allow_null=True)
    lead_conversion_rate = serializers.FloatField(allow_null=True)
    lead_to_win_rate = serializers.FloatField(allow_null=True)


class SetupViewSet(viewsets.ModelViewSet):
    permission_classes = [SetupRolePermission]
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]
    read_roles: frozenset = setup_roles_selectors.SOURCE_READ_ROLES
    model: type = LeadSource
    request: TenantRequest  # TenantMiddleware and the authentication leave a member's request

    def _selector_list(self) -> QuerySet:
        raise NotImplementedError

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):
            return schema_queryset(self.model)
        return self._selector_list()

    def _fields(self, serializer: serializers.BaseSerializer) -> dict[str, Any]:
        return dict(serializer.validated_data)

    def _reload(self, pk: int) -> Any:
        return self._selector_list().get(pk=pk)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        obj = self._create(serializer)
        return Response(self.get_serializer(self._reload(obj.pk)).data, status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        instance = self.get_object()
        serializer = self.get_serializer(instance, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        self._update(instance, serializer)
        return Response(self.get_serializer(self._reload(instance.pk)).data)

    def _create(self, serializer: serializers.BaseSerializer) -> Any:
        raise NotImplementedError

    def _update(self, instance: Any, serializer: serializers.BaseSerializer) -> Any:
        raise NotImplementedError
