"""CSV import jobs: one row per uploaded file, with its progress, counts and the per-row error report."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from crm.tenancy import TenantOwnedModel

# The error report keeps this many entries; the counts stay exact beyond it.
MAX_ROW_ERRORS = 1000


class ImportStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class ImportJob(TenantOwnedModel):
    """An uploaded CSV file and what importing it did. The file is kept in the row (workers need no shared
    disk) until the job finishes."""

    kind = models.CharField(_("kind"), max_length=40)
    file_name = models.CharField(_("file name"), max_length=255)
    content = models.BinaryField(editable=False, default=b"")
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
    def percent(self) -> int:
        if self.is_finished:
            return 100
        return int(self.processed * 100 / self.total) if self.total else 0

    @property
    def errors_truncated(self) -> bool:
        return len(self.row_errors) >= MAX_ROW_ERRORS
