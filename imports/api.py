"""API of the imports app under /api/v1/t/<slug>/:

- `POST imports/` (multipart: `kind`, `file`, optional `encoding`, `mapping` (JSON), `dry_run`) starts an import and returns the job (201);
- `POST imports/<id>/resume/` continues a job whose worker died (`resumable`) after its last committed chunk;
- `GET imports/` lists recent jobs, `GET imports/<id>/` gives a job's status, counts and row errors;
- `GET exports/<kind>/` streams the kind's CSV or XLSX (the same columns as the import), with the list's filters as
  query parameters and the caller's role visibility.
"""

from __future__ import annotations

import json
from typing import Any

from django.db.models import QuerySet
from django.http.response import HttpResponseBase
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_serializer,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.schema import response_example
from crm.tenancy import schema_queryset
from crm.types import tenant_request
from imports import selectors, services
from imports.models import ImportJob
from imports.registry import all_kinds
from imports.views import XLSX_TYPE, export_response, export_xlsx_response


class RowErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(
        help_text=_("Row of the file as a spreadsheet numbers it (the header is 1).")
    )
    column = serializers.CharField(allow_blank=True)
    reason = serializers.CharField()


IMPORT_JOB_LIST_VALUE = {
    "id": 31,
    "kind": "leads",
    "file_name": "leads-2026-q3.csv",
    "status": "done",
    "total": 1200,
    "processed": 1200,
    "created": 1150,
    "updated": 48,
    "failed": 2,
    "message": "",
    "encoding": "",
    "file_format": "csv",
    "mapping": {"Lead owner": "owner_email", "Notes": ""},
    "dry_run": False,
    "resumable": False,
    "heartbeat_at": "2026-11-20T09:00:41+08:00",
    "created_by": "ops@acme.test",
    "created_at": "2026-11-20T09:00:00+08:00",
    "started_at": "2026-11-20T09:00:02+08:00",
    "finished_at": "2026-11-20T09:00:41+08:00",
    "options": {"create_missing_owners": True, "add_missing_values": True},
    "added": {
        "owners": ["former.rep@acme.test"],
        "values": {"region": ["Hainan"], "industry": ["Aquaculture"]},
    },
}
IMPORT_JOB_RESPONSE_EXAMPLE = response_example(
    "Done, two rows rejected",
    {
        **IMPORT_JOB_LIST_VALUE,
        "row_errors": [
            {"row": 57, "column": "email", "reason": "Enter a valid email address."},
            {"row": 311, "column": "source", "reason": "Unknown lead source “Trade fair”."},
        ],
    },
)


@extend_schema_serializer(examples=[IMPORT_JOB_RESPONSE_EXAMPLE])
class ImportJobSerializer(serializers.ModelSerializer):
    created_by = serializers.SerializerMethodField()
    resumable = serializers.BooleanField(source="is_resumable", read_only=True)
    row_errors = RowErrorSerializer(many=True, read_only=True)

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "kind",
            "file_name",
            "status",
            "total",
            "processed",
            "created",
            "updated",
            "failed",
            "row_errors",
            "message",
            "encoding",
            "file_format",
            "mapping",
            "dry_run",
            "resumable",
            "heartbeat_at",
            "created_by",
            "created_at",
            "started_at",
            "finished_at",
            "options",
            "added",
        ]
        read_only_fields = fields

    def get_created_by(self, job: ImportJob) -> str | None:
        return job.created_by.email if job.created_by_id and job.created_by else None


@extend_schema_serializer(examples=[response_example("A finished leads import", IMPORT_JOB_LIST_VALUE)])
class ImportJobListSerializer(ImportJobSerializer):
    class Meta(ImportJobSerializer.Meta):
        fields = [name for name in ImportJobSerializer.Meta.fields if name != "row_errors"]
        read_only_fields = fields


class ImportJobCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=[], help_text=_("campaigns, leads, accounts, contacts, opportunities, …")
    )
    file = serializers.FileField(
        help_text=_(
            "A CSV file (UTF-8 with or without BOM, or GB18030/GBK) or an XLSX workbook (its first sheet), with "
            "a header row; up to 1 GB."
        )
    )
    encoding = serializers.ChoiceField(
        choices=["", "utf-8", "gb18030"],
        required=False,
        default="",
        help_text=_("The CSV file's encoding; empty detects it."),
    )
    mapping = serializers.JSONField(
        required=False,
        default=dict,
        help_text=_(
            "Source column -> the kind's column, or an empty string to ignore it, as a JSON object; columns "
            "not named are matched by their header name. Without it, the mapping saved for the kind is used."
        ),
    )
    dry_run = serializers.BooleanField(
        required=False,
        default=False,
        help_text=_("Validate every row with the same rules and write nothing (the job reports the errors)."),
    )
    create_missing_owners = serializers.BooleanField(
        required=False,
        default=False,
        help_text=_(
            "Admins only: an owner_email that is no member of the company becomes a deactivated member (so a "
            "former employee's history keeps its owner) instead of a row error."
        ),
    )
    add_missing_values = serializers.BooleanField(
        required=False,
        default=False,
        help_text=_(
            "Admins only: a value missing from the company's value lists (channel, industry, size band, region, "
            "lost reason) is added to the list instead of refused; the job reports what it added."
        ),
    )

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        kind_field = self.fields["kind"]
        if not isinstance(kind_field, serializers.ChoiceField):  # declared just above; narrows the type
            raise TypeError("kind must be a ChoiceField")
        kind_field.choices = [kind.key for kind in all_kinds()]


class ImportJobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    parser_classes = [MultiPartParser, FormParser]
    pagination_class = None

    def get_queryset(self) -> QuerySet[ImportJob]:
        if getattr(self, "swagger_fake_view", False):
            return schema_queryset(ImportJob)
        request = tenant_request(self.request)
        if self.action == "list":
            return selectors.import_job_list(tenant=request.tenant, membership=request.membership)
        return selectors.import_job_queryset(
            tenant=request.tenant, membership=request.membership
        ).select_related("created_by")

    def get_serializer_class(self):  # type: ignore[no-untyped-def]
        if self.action == "list":
            return ImportJobListSerializer
        if self.action == "create":
            return ImportJobCreateSerializer
        return ImportJobSerializer

    @extend_schema(summary="Recent import jobs (newest first, at most 50)")
    def list(self, request: Request, *args, **kwargs) -> Response:  # type: ignore[no-untyped-def]
        return super().list(request, *args, **kwargs)

    @extend_schema(summary="An import job: status, counts and row errors")
    def retrieve(self, request: Request, *args, **kwargs) -> Response:  # type: ignore[no-untyped-def]
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        summary="Start a CSV import",
        request={"multipart/form-data": ImportJobCreateSerializer},
        responses={201: ImportJobSerializer},
        examples=[
            OpenApiExample(
                "Import leads",
                value={
                    "kind": "leads",
                    "file": "leads-2026-q3.csv (the CSV file)",
                    "create_missing_owners": "true",
                    "add_missing_values": "true",
                    "mapping": '{"Lead owner": "owner_email", "Notes": ""}',
                    "dry_run": "false",
                },
                request_only=True,
                media_type="multipart/form-data",
            ),
            response_example(
                "Queued",
                {
                    **IMPORT_JOB_LIST_VALUE,
                    "status": "queued",
                    "total": 0,
                    "processed": 0,
                    "created": 0,
                    "updated": 0,
                    "failed": 0,
                    "row_errors": [],
                    "started_at": None,
                    "finished_at": None,
                    "added": {},
                },
            ),
        ],
    )
    def create(self, request: Request, *args, **kwargs) -> Response:  # type: ignore[no-untyped-def]
        member_request = tenant_request(request)
        serializer = ImportJobCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["file"]
        tenant, membership = member_request.tenant, member_request.membership
        job = services.import_job_create(
            tenant=tenant,
            actor=member_request.user,
            membership=membership,
            kind=serializer.validated_data["kind"],
            file_name=upload.name,
            create_missing_owners=serializer.validated_data["create_missing_owners"],
            add_missing_values=serializer.validated_data["add_missing_values"],
            upload=upload,
            encoding=serializer.validated_data["encoding"],
            mapping=serializer.validated_data["mapping"] or None,
            dry_run=serializer.validated_data["dry_run"],
            use_saved_mapping=True,
        )
        job = selectors.import_job_get(tenant=tenant, membership=membership, pk=job.pk)
        return Response(ImportJobSerializer(job).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Resume an import whose worker died",
        description=(
            "A job whose worker stopped (no heartbeat for five minutes, `resumable` true) continues after its "
            "last committed chunk: no row is written twice and none is lost."
        ),
        request=None,
        responses={202: ImportJobSerializer},
        examples=[
            OpenApiExample(
                "Resumed after its last committed chunk",
                value={**IMPORT_JOB_LIST_VALUE, "status": "running", "resumable": False, "row_errors": []},
                response_only=True,
                status_codes=["202"],
            )
        ],
    )
    @action(detail=True, methods=["post"])
    def resume(self, request: Request, *args, **kwargs) -> Response:  # type: ignore[no-untyped-def]
        member_request = tenant_request(request)
        job = self.get_object()
        services.import_job_resume(
            tenant=member_request.tenant, membership=member_request.membership, job=job
        )
        job.refresh_from_db()
        return Response(ImportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class _FileRenderer(BaseRenderer):
    """Lets content negotiation accept a file type the view writes itself (the view returns a Django response,
    which no renderer touches); errors are answered in JSON (ExportView.handle_exception)."""

    charset = None

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        return json.dumps(data).encode()


class CSVRenderer(_FileRenderer):
    media_type = "text/csv"
    format = "csv"


class XLSXRenderer(_FileRenderer):
    media_type = XLSX_TYPE
    format = "xlsx"


class ExportView(APIView):
    # JSON first: a client that accepts anything gets the CSV (the view's default) and, on an error, JSON.
    renderer_classes = [JSONRenderer, CSVRenderer, XLSXRenderer]

    @extend_schema(
        summary="Export a kind as CSV or XLSX",
        description=(
            "Streams the records of `kind` the caller may see, with the import's columns (KPIS.md). Query "
            "parameters are the filters of the kind's list (e.g. `owner`, `status`, `q`). CSV by default and "
            "with `Accept: text/csv` or `?format=csv`; an XLSX workbook (one sheet, text cells) with `Accept: "
            f"{XLSX_TYPE}` or `?format=xlsx`."
        ),
        parameters=[
            OpenApiParameter("kind", OpenApiTypes.STR, OpenApiParameter.PATH),
            OpenApiParameter("format", OpenApiTypes.STR, enum=["csv", "xlsx"], required=False),
        ],
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR),
            (200, XLSX_TYPE): OpenApiResponse(OpenApiTypes.BINARY),
            404: OpenApiResponse(description="Unknown kind"),
        },
    )
    def get(self, request: Request, slug: str, kind: str) -> HttpResponseBase:
        member_request = tenant_request(request)
        if getattr(request.accepted_renderer, "format", "") == "xlsx":
            return export_xlsx_response(member_request, kind)
        return export_response(member_request, kind)

    def handle_exception(self, exc: Exception) -> Response:
        # An error has no CSV or XLSX form: answer it in JSON whatever the client asked for.
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return super().handle_exception(exc)
