"""The import/export kind `quotas` (KPIS.md columns: external_id, owner_email, team, period_start, amount),
registered in the imports registry from SalesOpsConfig.ready(). Rows are written through
sales_ops.services.quotas (validation and who may edit which quota: admin and ops all, a manager their team's);
a known external_id updates its quota. The KPI recompute follows once, when the job ends (imports'
job-finished signal, see sales_ops.receivers), not once per row. Exports read sales_ops.selectors.quotas."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import QueryDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.models import Membership, Role, Team, Tenant
from crm.records import EXTERNAL_ID_UNAVAILABLE
from imports.kinds.common import column_values, email_of, iso
from imports.registry import CREATED, UPDATED, ImportKind, RowImporter, register
from imports.rows import Row, RowError, export_id
from sales_ops.models import Quota
from sales_ops.selectors.quotas import quota_list
from sales_ops.services.quotas import (
    quota_can_edit,
    quota_create,
    quota_owner_lookup,
    quota_update,
    quotas_save_many,
)

QUOTA_COLUMNS = ("external_id", "owner_email", "team", "period_start", "amount")
QUOTA_IMPORTERS = frozenset({Role.ADMIN, Role.OPS, Role.SALES_MANAGER})


class QuotaImporter(RowImporter):
    field_columns = {"month": "period_start", "owner": "owner_email", "__all__": "owner_email"}

    def prepare(self, rows: Sequence[Row]) -> None:
        tenant = self.context.tenant
        self.context.load_records(Quota, column_values(rows, "external_id"), select_related=("owner", "team"))
        owners = self.context.extras.setdefault("quota_owners", {})
        owners.update(quota_owner_lookup(tenant=tenant, emails=column_values(rows, "owner_email")))
        names = set(column_values(rows, "team")) - set(self.context.extras.setdefault("quota_teams", {}))
        if names:
            for team in Team.objects.filter(tenant=tenant, name__in=names):
                self.context.extras["quota_teams"][team.name] = team

    def _parse(self, row: Row) -> tuple[str, dict[str, Any]]:
        """(external_id, fields) as the services take them, for a new quota or the one the external id names;
        raises the row's errors: first that the member may not change the quota it names, then its cells."""
        context = self.context
        external_id = row.text("external_id", 100)
        existing = context.lookup(Quota, external_id) if external_id else None
        if existing is not None and not quota_can_edit(
            membership=context.membership, owner_id=existing.owner_id, team_id=existing.team_id
        ):
            # The same answer whether the member sees that quota or not (crm.records.EXTERNAL_ID_UNAVAILABLE).
            raise RowError("external_id", str(EXTERNAL_ID_UNAVAILABLE))
        fields: dict[str, Any] = {}
        if row.given("owner_email") or row.given("team") or existing is None:
            email = row.text("owner_email").lower()
            owner = context.extras["quota_owners"].get(email) if email else None
            if email and owner is None:
                row.fail(
                    "owner_email",
                    _("No member of this company has the email “%(email)s”.") % {"email": email},
                )
            name = row.text("team", 100)
            team = context.extras["quota_teams"].get(name) if name else None
            if name and team is None:
                row.fail("team", _("No team is called “%(name)s”.") % {"name": name})
            if email and name:
                row.fail(
                    "team", _("A quota belongs to an owner, to a team, or to neither (the whole company).")
                )
            fields["owner"], fields["team"] = owner, team
        if row.given("period_start") or existing is None:
            month = row.date("period_start")
            if month is None and not row.has_error("period_start"):
                row.fail("period_start", _("Enter the first day of a month (YYYY-MM-DD)."))
            elif month is not None and month.day != 1:
                row.fail("period_start", _("A quota's period starts on the first day of a month."))
            fields["month"] = month
        if row.given("amount") or existing is None:
            amount = row.decimal_for("amount", Quota, "amount")
            if amount is None and not row.has_error("amount"):
                row.fail("amount", _("Enter the amount."))
            fields["amount"] = amount
        row.check()
        return external_id, fields

    def import_many(self, rows: Sequence[Row]) -> dict[int, str | Exception]:
        """The chunk's new quotas and the ones the file names again, as one set in the file's order
        (quotas_save_many: a quota moved away frees its month for a later row, as one by one); the rows from the
        first one that repeats an external id of the chunk on go to import_row, after the set, in order."""
        context = self.context
        earlier: set[str] = set()
        after_a_repeat = False

        def waits(row: Row) -> bool:
            # From the first row that repeats an external id of the chunk (written one by one, after the set), every
            # row waits too: a quota that row moves away frees its month for the later rows, as one by one.
            nonlocal after_a_repeat
            external_id = (row.values.get("external_id") or "").strip()
            after_a_repeat = after_a_repeat or (bool(external_id) and external_id in earlier)
            earlier.add(external_id)
            return after_a_repeat

        split = self.split_rows(rows, Quota, self._parse, wait=waits)
        changes = sorted(
            [(index, None, fields, external_id) for index, (external_id, fields) in split.new]
            + [(index, quota, fields, "") for index, quota, (_external_id, fields) in split.known],
            key=lambda change: change[0],
        )
        saved = quotas_save_many(
            tenant=context.tenant,
            membership=context.membership,
            changes=[
                (quota, fields if quota is not None else {**fields, "external_id": external_id})
                for _index, quota, fields, external_id in changes
            ],
            external_ids_read=True,  # prepare() read every quota holding the chunk's external ids
        )
        outcomes = split.outcomes
        for (index, quota, _fields, _external_id), result in zip(changes, saved, strict=True):
            if isinstance(result, PermissionDenied):
                outcomes[index] = RowError("", str(result) or _("You may not change this quota."))
            elif isinstance(result, Exception):
                outcomes[index] = result
            else:
                context.remember(result)
                outcomes[index] = CREATED if quota is None else UPDATED
        return outcomes

    def import_row(self, row: Row) -> str:
        context = self.context
        external_id, fields = self._parse(row)
        existing = context.lookup(Quota, external_id) if external_id else None
        try:
            if existing is not None:
                quota = quota_update(
                    tenant=context.tenant, membership=context.membership, quota=existing, **fields
                )
                context.remember(quota)
                return UPDATED
            quota = quota_create(
                tenant=context.tenant, membership=context.membership, external_id=external_id, **fields
            )
        except PermissionDenied as exc:
            raise RowError("", str(exc) or _("You may not change this quota.")) from None
        context.remember(quota)
        return CREATED


def _quotas(tenant: Tenant, membership: Membership, params: QueryDict) -> Any:
    rows = quota_list(tenant=tenant, membership=membership)
    year = str(params.get("year") or "")
    if year.isdigit():
        rows = rows.filter(month__year=int(year))
    return rows.order_by("month", "id")


def _quota_row(quota: Quota) -> dict[str, Any]:
    return {
        "external_id": export_id(quota),
        "owner_email": email_of(quota.owner),
        "team": quota.team.name if quota.team else "",
        "period_start": iso(quota.month),
        "amount": iso(quota.amount),
    }


def register_kind() -> None:
    register(
        ImportKind(
            key="quotas",
            label=gettext_lazy("Quotas"),
            columns=QUOTA_COLUMNS,
            import_roles=QUOTA_IMPORTERS,
            export_roles=frozenset(Role.values),
            importer=QuotaImporter,
            export_queryset=_quotas,
            export_row=_quota_row,
            model=Quota,
        )
    )
