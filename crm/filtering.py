"""Filters from a query string, applied the one way lists and exports share.

The list API (DRF's DjangoFilterBackend) answers 400 when a filter does not validate, e.g. `owner=<id>` of
someone of another tenant. A selector that applies the same FilterSet for an export must not quietly answer
every row (the filter ignored) or no row (an empty file with 200): it raises the same errors.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet

if TYPE_CHECKING:
    from django_filters import FilterSet


def filters_check(filterset: FilterSet) -> None:
    """ValidationError({filter: [messages]}) when a given filter is invalid (the API's exception handler answers
    it with 400, like the list)."""
    if filterset.is_bound and not filterset.is_valid():
        raise ValidationError({name: list(errors) for name, errors in filterset.errors.items()})


def filterset_rows(filterset: FilterSet) -> QuerySet[Any]:
    """The filtered rows of a FilterSet, or filters_check's ValidationError."""
    filters_check(filterset)
    return filterset.qs
