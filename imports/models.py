"""CSV import jobs: one row per uploaded file, with its progress, counts and the per-row error report."""

from __future__ import annotations

import datetime
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.tenancy import TenantOwnedModel

# The error report keeps this many entries; the counts stay exact beyond it.
MAX_ROW_ERRORS = 1000


class ImportStatus(models.TextChoices):
    # Uploaded in the browser, waiting for its column mapping and a dry run or the import to be started.
    PREVIEW = "preview", _("Preview")
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


# A job whose worker has not moved it for this long is taken as dead (a chunk commits far more often).
STALE_AFTER = datetime.timedelta(minutes=5)


class FileFormat(models.TextChoices):
    CSV = "csv", "CSV"
    XLSX = "xlsx", "XLSX"


def import_upload_path(job: ImportJob, file_name: str) -> str:
    """Where an uploaded file is stored: under the tenant's own folder, never under the user's file name."""
    suffix = ".xlsx" if file_name.lower().endswith(".xlsx") else ".csv"
    return f"imports/tenant-{job.tenant_id}/{uuid.uuid4().hex}{suffix}"


class ImportJob(TenantOwnedModel):
    """An uploaded CSV or XLSX file and what importing it did. The file is streamed to the media storage (a
    volume shared by web and workers, see docker-compose.yml) and read row by row; it is deleted when the job
    finishes."""

    kind = models.CharField(_("kind"), max_length=40)
    file_name = models.CharField(_("file name"), max_length=255)
    file = models.FileField(upload_to=import_upload_path, max_length=300, blank=True)
    file_format = models.CharField(max_length=4, choices=FileFormat.choices, default=FileFormat.CSV)
    # "" detects it (a BOM, else strict UTF-8 on a sample, else GB18030); or "utf-8" / "gb18030" as chosen.
    encoding = models.CharField(_("encoding"), max_length=20, blank=True)
    # {source column as the file spells it: the kind's column, or "" for ignored}; empty: by header names.
    mapping = models.JSONField(default=dict, blank=True)
    # A dry run validates every row with the same rules and writes nothing.
    dry_run = models.BooleanField(_("dry run"), default=False)
    # Moved by every committed chunk; a running job whose heartbeat is older than STALE_AFTER is resumable.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=ImportStatus.choices, default=ImportStatus.QUEUED
    )
    total = models.PositiveIntegerField(_("rows"), default=0)
    processed = models.PositiveIntegerField(_("processed"), default=0)
    created = models.PositiveIntegerField(_("created"), default=0)
    updated = models.PositiveIntegerField(_("updated"), default=0)
    failed = models.PositiveIntegerField(_("failed"), default=0)
    # [{"row": 2, "column": "email", "reason": "..."}], at most MAX_ROW_ERRORS entries.
    row_errors = models.JSONField(default=list, blank=True)
    message = models.CharField(_("message"), max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    # How many times a worker started (or resumed) it: a job whose worker keeps dying fails after MAX_RUNS.
    runs = models.PositiveSmallIntegerField(default=0, editable=False)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The last id the kind's table had handed out when the job first started (crm.records.last_id): the records
    # the job creates have higher ids, which is how RowImporter.settle finds them at the job's end, in any run.
    id_floor = models.BigIntegerField(null=True, blank=True, editable=False)
    # The language of the pages the upload came from: the worker writes the job's messages and row errors in it
    # (they are stored as text). Empty for jobs stored before it was kept (imports.services._job_language).
    # A default in the database too: a web process of the release before still stores jobs while this one migrates.
    language = models.CharField(
        _("language"), max_length=10, blank=True, default="", db_default="", editable=False
    )
    # What the importing member chose for this file: {"create_missing_owners": bool, "add_missing_values": bool}.
    options = models.JSONField(default=dict, blank=True)
    # What the job added to the company because of its options: {"owners": [emails], "values": {list: [values]}}.
    added = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "-created_at", "-id"], name="imports_job_tenant_recent_idx"),
            models.Index(fields=["tenant", "created_by", "-created_at"], name="imports_job_tenant_user_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}: {self.file_name}"

    @property
    def is_finished(self) -> bool:
        return self.status in (ImportStatus.DONE, ImportStatus.FAILED)

    @property
    def is_resumable(self) -> bool:
        """Running (or queued) but its worker has not been heard of for STALE_AFTER: it died."""
        if self.status not in (ImportStatus.RUNNING, ImportStatus.QUEUED):
            return False
        last = self.heartbeat_at or self.started_at or self.created_at
        return last is not None and timezone.now() - last > STALE_AFTER

    @property
    def percent(self) -> int:
        if self.is_finished:
            return 100
        return int(self.processed * 100 / self.total) if self.total else 0

    @property
    def errors_truncated(self) -> bool:
        return len(self.row_errors) >= MAX_ROW_ERRORS


class ImportMapping(TenantOwnedModel):
    """A tenant's saved column mapping of a kind, offered for the next file of that kind."""

    kind = models.CharField(_("kind"), max_length=40)
    mapping = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "kind"], name="imports_mapping_tenant_kind_uniq"),
        ]

    def __str__(self) -> str:
        return self.kind
