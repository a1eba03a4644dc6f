"""What the customer-success API modules share: who may change health settings, feedback and playbooks."""

from __future__ import annotations

from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request

from crm.models import Role
from crm.types import tenant_request

CS_EDITORS = {Role.ADMIN, Role.CS}


def _require_cs_editor(request: Request) -> None:
    if tenant_request(request).membership.role not in CS_EDITORS:
        raise PermissionDenied("Only admins and customer success change this.")
