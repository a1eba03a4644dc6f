"""The import/export kind `feedback` (KPIS.md columns: external_id, account_external_id, kind, score, comment,
received_at), registered in the imports registry from LifecycleConfig.ready(). Rows are written through
lifecycle.services.feedback; exports read the feedback list selector (role visibility and the page's filters)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import QuerySet
from django.http import QueryDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Account
from crm.models import Membership, Role, Tenant
from imports.kinds.common import column_values, iso
from imports.registry import CREATED, UPDATED, ImportKind, RowImporter, register
from imports.rows import Row, export_id
from lifecycle.models import Feedback, FeedbackChannel, FeedbackKind
from lifecycle.selectors.feedback import feedback_list
from lifecycle.services.feedback import (
    feedback_create,
    feedback_create_many,
    feedback_update,
    feedback_update_many,
)

FEEDBACK_COLUMNS = ("external_id", "account_external_id", "kind", "score", "comment", "received_at")
FEEDBACK_IMPORTERS = frozenset({Role.ADMIN, Role.OPS, Role.CS})


class FeedbackImporter(RowImporter):
    field_columns = {"account": "account_external_id", "received_at": "received_at"}

    def prepare(self, rows: Sequence[Row]) -> None:
        self.context.load_records(Feedback, column_values(rows, "external_id"))
        self.context.load_records(Account, column_values(rows, "account_external_id"))

    def _parse(self, row: Row) -> tuple[str, dict[str, Any]]:
        """(external_id, fields) as the services take them, for a new answer or the one the external id names;
        raises the row's cell errors."""
        external_id = row.text("external_id", 100)
        existing = self.context.lookup(Feedback, external_id) if external_id else None
        fields: dict[str, Any] = {}
        if row.given("account_external_id") or existing is None:
            account = row.record("account_external_id", Account)
            if account is None and not row.has_error("account_external_id"):
                row.fail("account_external_id", _("Enter the account's external id."))
            fields["account"] = account
        if row.given("kind") or existing is None:
            kind = row.choice("kind", FeedbackKind)
            if not kind and not row.has_error("kind"):
                row.fail("kind", _("Enter nps or csat."))
            fields["kind"] = kind
        if row.given("score") or existing is None:
            score = row.decimal("score")
            if score is None and not row.has_error("score"):
                row.fail("score", _("Enter a score."))
            elif score is not None and score != score.to_integral_value():
                row.fail("score", _("Enter a whole number."))
            fields["score"] = int(score) if score is not None and not row.has_error("score") else None
        if row.given("comment"):
            fields["comment"] = row.text("comment", 5000)
        if row.given("received_at"):
            fields["received_at"] = row.timestamp("received_at")
        row.check()
        return external_id, fields

    def import_many(self, rows: Sequence[Row]) -> dict[int, str | Exception]:
        """New answers as a set (feedback_create_many) and the answers the file names again as another
        (feedback_update_many), with import_row's rules and errors; the rows RowImporter.split_rows leaves out go
        to import_row."""
        context = self.context
        split = self.split_rows(rows, Feedback, self._parse)
        # prepare() read every answer holding the chunk's external ids; the new rows name none of them.
        created = feedback_create_many(
            tenant=context.tenant,
            actor=context.actor,
            drafts=[
                {**fields, "external_id": external_id, "channel": FeedbackChannel.IMPORT}
                for _index, (external_id, fields) in split.new
            ],
            external_ids_read=True,
        )
        updated = feedback_update_many(
            tenant=context.tenant,
            actor=context.actor,
            changes=[(existing, fields) for _index, existing, (_external_id, fields) in split.known],
        )
        return self.set_outcomes(split, created, updated)

    def import_row(self, row: Row) -> str:
        context = self.context
        external_id, fields = self._parse(row)
        existing = context.lookup(Feedback, external_id) if external_id else None
        if existing is not None:
            feedback = feedback_update(
                tenant=context.tenant, actor=context.actor, feedback=existing, **fields
            )
            context.remember(feedback)
            return UPDATED
        feedback = feedback_create(
            tenant=context.tenant,
            actor=context.actor,
            channel=FeedbackChannel.IMPORT,
            external_id=external_id,
            **fields,
        )
        context.remember(feedback)
        return CREATED


def _feedback(tenant: Tenant, membership: Membership, params: QueryDict) -> QuerySet[Feedback]:
    return feedback_list(tenant=tenant, membership=membership, filters=params)


def _feedback_row(feedback: Feedback) -> dict[str, Any]:
    return {
        "external_id": export_id(feedback),
        "account_external_id": export_id(feedback.account),
        "kind": feedback.kind,
        "score": feedback.score,
        "comment": feedback.comment,
        "received_at": iso(feedback.received_at),
    }


def register_kind() -> None:
    register(
        ImportKind(
            key="feedback",
            label=gettext_lazy("Feedback"),
            columns=FEEDBACK_COLUMNS,
            import_roles=FEEDBACK_IMPORTERS,
            export_roles=frozenset(Role.values),
            importer=FeedbackImporter,
            export_queryset=_feedback,
            export_row=_feedback_row,
            model=Feedback,
        )
    )
