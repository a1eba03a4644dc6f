from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination as BaseCursorPagination
from rest_framework.request import Request


class CursorPagination(BaseCursorPagination):
    """Keyset pagination: stays fast at any depth, unlike OFFSET.

    A cursor that does not decode, or whose position does not fit the sort field, is a bad parameter (400 on
    `cursor`), not a missing page (DRF answers 404) or a server error."""

    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def _invalid(self) -> ValidationError:
        message = _("Invalid cursor: follow the next or previous link of an earlier page.")
        return ValidationError({self.cursor_query_param: [message]})

    def decode_cursor(self, request: Request) -> Any:
        try:
            return super().decode_cursor(request)
        except NotFound as exc:
            raise self._invalid() from exc

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> Any:
        try:
            return super().paginate_queryset(queryset, request, view)
        except (ValueError, TypeError, DjangoValidationError) as exc:
            # Raised while building the keyset filter from a forged position (e.g. "abc" for an id), before any
            # query ran; without a cursor the error is not the client's.
            if request.query_params.get(self.cursor_query_param) is None:
                raise
            raise self._invalid() from exc
