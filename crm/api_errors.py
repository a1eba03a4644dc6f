"""One exception handler for the API: Django ValidationError and app errors become clear 400s."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from crm.errors import AppError, ConflictError


def exception_handler(exc, context):  # type: ignore[no-untyped-def]
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        return Response(detail, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, ConflictError):
        return Response({"detail": str(exc), **exc.extra}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, AppError):
        return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DjangoPermissionDenied) and str(exc):
        # A service's reason ("You can view this lead but not ...") instead of DRF's generic 403 text.
        return Response({"detail": str(exc)}, status=status.HTTP_403_FORBIDDEN)
    response = drf_exception_handler(exc, context)
    if response is not None and response.status_code == 400 and isinstance(response.data, list):
        # A ValidationError raised with a bare list (a filter's or a view's own check) is shaped like every
        # other 400 (the ValidationError schema): an object, its messages under `non_field_errors`.
        response.data = {"non_field_errors": response.data}
    return response
