"""What every record API shares: `version` on update (a stale one answers 409 with both versions and the current
values, through crm.api_errors), `destroy` as a soft delete and a `restore` action that undoes it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers, status
from rest_framework.response import Response

T = TypeVar("T")


class RecordConflictSerializer(serializers.Serializer):
    """The 409 body of a stale update (the OpenAPI description of ConflictError's answer)."""

    detail = serializers.CharField()
    your_version = serializers.IntegerField(allow_null=True)
    current_version = serializers.IntegerField()
    current = serializers.DictField()


CONFLICT_RESPONSE = {409: RecordConflictSerializer}


class VersionedRecordMixin:
    """For viewsets of versioned, soft-deleted records. The viewset keeps its own decorated actions (schema, roles)
    and calls these for the shared steps."""

    def versioned_fields(self, data: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
        """The version the client loaded (required: 400 without it) and the other fields for the service."""
        version = data.get("version")
        if version is None:
            raise serializers.ValidationError(
                {"version": [_("Send the version you loaded (optimistic locking).")]}
            )
        return int(version), {key: value for key, value in data.items() if key != "version"}

    def soft_destroy(self, delete: Callable[[], object]) -> Response:
        """DELETE: the service soft-deletes (restorable); 204."""
        delete()
        return Response(status=status.HTTP_204_NO_CONTENT)

    def restore_deleted(
        self,
        *,
        find: Callable[[], T | None],
        restore: Callable[[T], object],
        represent: Callable[[T], Any],
    ) -> Response:
        """POST restore/: the deleted record the member may see (else 404, like a missing one), restored; 200 with
        its representation."""
        record = find()
        if record is None:
            raise Http404
        restore(record)
        return Response(represent(record))
