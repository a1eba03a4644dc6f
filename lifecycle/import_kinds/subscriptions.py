"""The import/export kind `subscriptions` (KPIS.md columns: external_id, account_external_id, plan, mrr, currency,
start_date, end_date), registered in the imports registry from LifecycleConfig.ready(). Rows are written through
lifecycle.services.subscriptions without the per-row lifecycle recompute: the accounts the job touched are
recomputed once, when the job ends (RowImporter.finish). Exports read the subscription list selector (role
visibility and the list page's filters)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import QuerySet
from django.http import QueryDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Account
from crm.filtering import filterset_rows
from crm.models import Membership, Role, Tenant
from crm.records import EXTERNAL_ID_UNAVAILABLE
from imports.kinds.common import column_values, iso
from imports.registry import CREATED, UPDATED, ImportKind, RowImporter, register
from imports.rows import Row, RowError, export_id
from lifecycle.filters.subscriptions import SubscriptionFilterSet
from lifecycle.models import Subscription
from lifecycle.selectors.subscriptions import subscription_account_q, subscription_list
from lifecycle.services.stages import lifecycle_schedule_recompute
from lifecycle.services.subscriptions import (
    subscription_create,
    subscription_update,
    subscriptions_create_many,
    subscriptions_update_many,
)

SUBSCRIPTION_COLUMNS = (
    "external_id",
    "account_external_id",
    "plan",
    "mrr",
    "currency",
    "start_date",
    "end_date",
)
SUBSCRIPTION_IMPORTERS = frozenset({Role.ADMIN, Role.OPS, Role.CS})


class SubscriptionImporter(RowImporter):
    field_columns = {
        "account": "account_external_id",
        "renews_from": "external_id",
        "churn_reason": "external_id",
    }

    def __init__(self, context: Any) -> None:
        super().__init__(context)
        self.touched: set[int] = set()

    def prepare(self, rows: Sequence[Row]) -> None:
        context = self.context
        context.load_records(Subscription, column_values(rows, "external_id"))
        context.load_records(Account, column_values(rows, "account_external_id"))
        # Accounts whose subscriptions this member may write (cs: customers and their own), those the rows name
        # and those of the subscriptions they name: one query a chunk.
        q = subscription_account_q(context.membership)
        loaded = [account.pk for account in context.records.get(Account, {}).values()]
        loaded += [subscription.account_id for subscription in context.records.get(Subscription, {}).values()]
        visible = Account.objects.filter(tenant=context.tenant, pk__in=loaded)
        if q is not None:
            visible = visible.filter(q)
        self.visible_accounts = set(visible.values_list("pk", flat=True))

    def _parse(self, row: Row) -> tuple[str, dict[str, Any], Account | None]:
        """(external_id, fields, account) as the services take them, for a new subscription or the one the external
        id names; raises the row's cell errors."""
        external_id = row.text("external_id", 100)
        existing = self.context.lookup(Subscription, external_id) if external_id else None
        fields: dict[str, Any] = {}
        account = None
        if row.given("account_external_id") or existing is None:
            account = row.record("account_external_id", Account)
            if account is None and not row.has_error("account_external_id"):
                row.fail("account_external_id", _("Enter the account's external id."))
            elif account is not None and account.pk not in self.visible_accounts:
                row.fail(
                    "account_external_id",
                    _("No record has the external id “%(id)s”.") % {"id": row.text("account_external_id")},
                )
        if row.given("plan"):
            fields["plan"] = row.text("plan", 200)
        if row.given("mrr") or existing is None:
            fields["mrr"] = row.decimal_for("mrr", Subscription, "mrr") or 0
        if row.given("currency"):
            fields["currency"] = row.text("currency").upper()
        if row.given("start_date") or existing is None:
            fields["start_date"] = row.date("start_date")
        if row.given("end_date") or existing is not None:
            # An empty end date on a known subscription makes it open-ended again (empty cell = no value).
            fields["end_date"] = row.date("end_date") if row.given("end_date") else None
        row.check()
        return external_id, fields, account

    def _may_update(self, existing: Subscription, account: Account | None) -> None:
        """import_row's checks of a row that names a stored subscription, before its values: RowError."""
        # Checked first: a subscription the member may not change answers the same, deleted or not, whatever its
        # account (crm.records.EXTERNAL_ID_UNAVAILABLE).
        if existing.account_id not in self._visible_existing(existing):
            raise RowError("external_id", str(EXTERNAL_ID_UNAVAILABLE))
        if existing.deleted_at is not None:
            raise RowError(
                "external_id", _("This external id belongs to a deleted record; restore it first.")
            )
        if account is not None and account.pk != existing.account_id:
            raise RowError("account_external_id", _("A subscription cannot move to another account."))

    def import_many(self, rows: Sequence[Row]) -> dict[int, str | Exception]:
        """New subscriptions as a set (subscriptions_create_many) and the ones the file names again as another
        (subscriptions_update_many), both without the lifecycle recompute (once at the job's end, `finish`); the
        rows RowImporter.split_rows leaves out go to import_row."""
        context = self.context
        split = self.split_rows(rows, Subscription, self._parse)
        known = []
        for index, existing, (_external_id, fields, account) in split.known:
            try:
                self._may_update(existing, account)
            except RowError as exc:
                split.outcomes[index] = exc
                continue
            known.append((index, existing, fields))
        split.known = known
        # prepare() read every subscription holding the chunk's external ids; the new rows name none of them.
        created = subscriptions_create_many(
            tenant=context.tenant,
            actor=context.actor,
            drafts=[
                {**fields, "account": account, "external_id": external_id}
                for _index, (external_id, fields, account) in split.new
            ],
            external_ids_read=True,
            recompute=False,
        )
        updated = subscriptions_update_many(
            tenant=context.tenant,
            actor=context.actor,
            changes=[(existing, fields) for _index, existing, fields in split.known],
            recompute=False,
        )
        for subscription in (*created, *updated):
            if isinstance(subscription, Subscription):
                self.touched.add(subscription.account_id)
        return self.set_outcomes(split, created, updated)

    def import_row(self, row: Row) -> str:
        context = self.context
        external_id, fields, account = self._parse(row)
        existing = context.lookup(Subscription, external_id) if external_id else None
        if existing is not None:
            self._may_update(existing, account)
            subscription = subscription_update(
                tenant=context.tenant,
                actor=context.actor,
                subscription=existing,
                version=None,
                recompute=False,
                **fields,
            )
            self.touched.add(subscription.account_id)
            context.remember(subscription)
            return UPDATED
        if account is None:  # _parse refused a row without one
            raise RowError("account_external_id", _("Enter the account's external id."))
        subscription = subscription_create(
            tenant=context.tenant,
            actor=context.actor,
            account=account,
            external_id=external_id,
            recompute=False,
            **fields,
        )
        self.touched.add(subscription.account_id)
        context.remember(subscription)
        return CREATED

    def _visible_existing(self, existing: Subscription) -> set[int]:
        if existing.account_id in self.visible_accounts:
            return self.visible_accounts
        q = subscription_account_q(self.context.membership)
        qs = Account.objects.filter(tenant=self.context.tenant, pk=existing.account_id)
        if q is not None:
            qs = qs.filter(q)
        return set(qs.values_list("pk", flat=True))

    def finish(self) -> None:
        """One lifecycle recompute of every account the job touched, after the job's last commit."""
        if self.touched:
            lifecycle_schedule_recompute(tenant_id=self.context.tenant.pk, account_ids=sorted(self.touched))


def _subscriptions(tenant: Tenant, membership: Membership, params: QueryDict) -> QuerySet[Subscription]:
    base = subscription_list(tenant=tenant, membership=membership)
    filterset = SubscriptionFilterSet(params or None, queryset=base, tenant=tenant, membership=membership)
    qs = filterset_rows(filterset) if filterset.is_bound else base
    return qs.order_by("-start_date", "-id")


def _subscription_row(subscription: Subscription) -> dict[str, Any]:
    return {
        "external_id": export_id(subscription),
        "account_external_id": export_id(subscription.account),
        "plan": subscription.plan,
        "mrr": iso(subscription.mrr),
        "currency": subscription.currency,
        "start_date": iso(subscription.start_date),
        "end_date": iso(subscription.end_date),
    }


def register_kind() -> None:
    register(
        ImportKind(
            key="subscriptions",
            label=gettext_lazy("Subscriptions"),
            columns=SUBSCRIPTION_COLUMNS,
            import_roles=SUBSCRIPTION_IMPORTERS,
            export_roles=frozenset(Role.values),
            importer=SubscriptionImporter,
            export_queryset=_subscriptions,
            export_row=_subscription_row,
            model=Subscription,
        )
    )
