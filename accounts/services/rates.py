"""Money: the tenant's exchange-rate table (create, update, delete, rebase when the reporting currency changes),
conversion into the reporting currency and the set-based repricing of deals after a rate change."""

from __future__ import annotations

import datetime
import datetime as dt
import re
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import DateTimeField, DecimalField, Exists, ExpressionWrapper, F, OuterRef, Subquery
from django.db.models.functions import Coalesce, Round, TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import ExchangeRate, Opportunity, StageKind
from accounts.services.common import _unknown_fields
from crm.dates import tenant_today
from crm.errors import AppError
from crm.history import stamps_actor
from crm.models import Tenant, User
from crm.money import convert_to_reporting, is_reporting, pick_rate


def _no_rate(tenant: Tenant, currency: str) -> AppError:
    return AppError(
        _("No exchange rate for %(currency)s to %(reporting)s: an admin adds one under Exchange rates.")
        % {"currency": currency, "reporting": tenant.currency}
    )


def to_reporting(
    *, tenant: Tenant, amount: Decimal | int | float | str, currency: str, on_date: datetime.date | None
) -> Decimal:
    """`amount` of `currency` in the tenant's reporting currency, rounded to cents.

    Rate: the latest ExchangeRate with valid_from <= on_date for the currency, else the earliest one; the
    reporting currency itself converts 1:1; no rate at all raises AppError. `on_date` None means today."""
    currency = (currency or tenant.currency).upper()
    if is_reporting(currency, tenant.currency):
        return convert_to_reporting(amount, None)
    on_date = on_date or tenant_today(tenant)
    if isinstance(on_date, datetime.datetime):
        on_date = timezone.localtime(on_date, tenant.tzinfo).date()
    base = ExchangeRate.objects.filter(tenant=tenant, currency=currency)
    rate = base.filter(valid_from__lte=on_date).order_by("-valid_from").values_list("rate", flat=True).first()
    if rate is None:
        rate = base.order_by("valid_from").values_list("rate", flat=True).first()
    if rate is None:
        raise _no_rate(tenant, currency)
    return convert_to_reporting(amount, rate)


def reporting_converter(*, tenant: Tenant) -> Callable[..., Decimal]:
    """A to_reporting() with the tenant's whole rate table loaded once (one query), for bulk work:
    `convert(amount, currency, on_date)`."""
    table: dict[str, list[tuple[datetime.date, Decimal]]] = {}
    for currency, valid_from, rate in (
        ExchangeRate.objects.filter(tenant=tenant)
        .order_by("currency", "valid_from")
        .values_list("currency", "valid_from", "rate")
    ):
        table.setdefault(currency, []).append((valid_from, rate))
    today = tenant_today(tenant)

    def convert(amount: Any, currency: str, on_date: datetime.date | None = None) -> Decimal:
        code = (currency or tenant.currency).upper()
        if is_reporting(code, tenant.currency):
            return convert_to_reporting(amount, None)
        rate = pick_rate(table.get(code, []), on_date or today)
        if rate is None:
            raise _no_rate(tenant, code)
        return convert_to_reporting(amount, rate)

    return convert


def _clean_rate(tenant: Tenant, rate: ExchangeRate) -> None:
    rate.currency = (rate.currency or "").strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", rate.currency):
        raise ValidationError({"currency": _("Use a three-letter ISO 4217 code such as USD.")})
    if rate.currency == tenant.currency.upper():
        raise ValidationError({"currency": _("The reporting currency converts 1:1; it needs no rate.")})
    try:
        value = Decimal(str(rate.rate))
    except (InvalidOperation, TypeError) as exc:
        raise ValidationError({"rate": _("Enter a number.")}) from exc
    if value <= 0:
        raise ValidationError({"rate": _("The rate must be greater than zero.")})
    clash = ExchangeRate.objects.filter(tenant=tenant, currency=rate.currency, valid_from=rate.valid_from)
    if clash.exclude(pk=rate.pk).exists():
        raise ValidationError({"valid_from": _("There is already a rate for this currency from this date.")})
    rate.full_clean(exclude=["tenant"])


def _reprice(tenant: Tenant, currencies: set[str]) -> None:
    """Deals keep amount_reporting; after a rate change the deals area reprices (a task, after commit)."""
    from accounts.tasks import opportunities_reprice_task

    for currency in sorted(currencies):
        opportunities_reprice_task.delay_on_commit(tenant.pk, currency)


@transaction.atomic
def exchange_rate_create(
    *, tenant: Tenant, actor: User | None, currency: str, valid_from: datetime.date, rate: Decimal
) -> ExchangeRate:
    """Add a rate (1 unit of `currency` = `rate` reporting units from `valid_from`). Side effect: reprice."""
    obj = ExchangeRate(tenant=tenant, currency=currency, valid_from=valid_from, rate=rate)
    _clean_rate(tenant, obj)
    obj.save()
    _reprice(tenant, {obj.currency})
    return obj


@transaction.atomic
def exchange_rate_update(
    *, tenant: Tenant, actor: User | None, exchange_rate: ExchangeRate, **fields: Any
) -> ExchangeRate:
    _unknown_fields(fields, ("currency", "valid_from", "rate"))
    old_currency = exchange_rate.currency
    for key, value in fields.items():
        setattr(exchange_rate, key, value)
    _clean_rate(tenant, exchange_rate)
    exchange_rate.save()
    _reprice(tenant, {old_currency, exchange_rate.currency})
    return exchange_rate


@transaction.atomic
def exchange_rate_delete(*, tenant: Tenant, actor: User | None, exchange_rate: ExchangeRate) -> None:
    currency = exchange_rate.currency
    ExchangeRate.objects.filter(tenant=tenant, pk=exchange_rate.pk).delete()
    _reprice(tenant, {currency})


def _local_date(tenant: Tenant, moment: dt.datetime | None) -> dt.date:
    moment = moment or timezone.now()
    return timezone.localtime(moment, tenant.tzinfo).date()


def reporting_amount(*, tenant: Tenant, amount: Decimal, currency: str, on_date: dt.date) -> Decimal:
    """`amount` in the tenant's reporting currency on `on_date` (to_reporting); no
    rate at all is a field error on `currency`."""
    try:
        return to_reporting(tenant=tenant, amount=amount, currency=currency, on_date=on_date)
    except AppError as exc:
        raise ValidationError({"currency": str(exc)}) from exc


def _rate_on(*, tenant: Tenant, on_date: Any) -> Subquery:
    """The deal's currency's rate valid on `on_date` (a date or a date expression of the outer deal)."""
    return Subquery(
        ExchangeRate.objects.filter(tenant=tenant, currency=OuterRef("currency"), valid_from__lte=on_date)
        .order_by("-valid_from")
        .values("rate")[:1]
    )


@transaction.atomic
@stamps_actor
def opportunities_reprice(
    *, tenant: Tenant, actor: User | None = None, currency: str | None = None, open_only: bool = False
) -> int:
    """Re-convert amount_reporting of the deals in `currency` (None: every currency) set-based in SQL — a few
    UPDATEs whatever the number of deals — with to_reporting's rule: open deals at today's rate, closed deals at
    the rate valid on their close date, before the first rate the earliest one; the reporting currency 1:1.
    Deals whose currency has no rate at all keep their amount. Only rows whose amount changes are written (each
    write is a history event, booked to `actor`; None: the system). Returns the number of rows updated."""
    deals = Opportunity.objects.filter(tenant=tenant)
    if currency is not None:
        deals = deals.filter(currency=currency.upper())
    money = DecimalField(max_digits=18, decimal_places=2)
    reporting = tenant.currency.upper()
    count = 0
    if currency is None or currency.upper() == reporting:
        count += (
            deals.filter(currency=reporting)
            .exclude(amount_reporting=F("amount"))
            .update(amount_reporting=F("amount"))
        )
        if currency is not None:
            return count
    rates = ExchangeRate.objects.filter(tenant=tenant, currency=OuterRef("currency"))
    earliest = Subquery(rates.order_by("valid_from").values("rate")[:1])
    foreign = deals.exclude(currency=reporting).filter(Exists(rates))
    close_day = TruncDate(
        ExpressionWrapper(OuterRef("closed_at"), output_field=DateTimeField()), tzinfo=tenant.tzinfo
    )
    groups: list[tuple[Any, Any]] = [
        (
            foreign.filter(stage__kind=StageKind.OPEN),
            _rate_on(tenant=tenant, on_date=_local_date(tenant, None)),
        )
    ]
    if not open_only:
        groups.append(
            (
                foreign.exclude(stage__kind=StageKind.OPEN).filter(closed_at__isnull=False),
                _rate_on(tenant=tenant, on_date=close_day),
            )
        )
    for group, rate in groups:
        converted = Round(
            ExpressionWrapper(F("amount") * Coalesce(rate, earliest, output_field=money), output_field=money),
            2,
        )
        count += group.exclude(amount_reporting=converted).update(amount_reporting=converted)
    return count


RATE_PLACES = Decimal("0.00000001")  # ExchangeRate.rate has 8 decimal places


SMALLEST_RATE = RATE_PLACES


def _in_force(rates: list[tuple[dt.date, Decimal]], on_date: dt.date) -> Decimal | None:
    """The rate valid on `on_date` (rates sorted by date ascending), None before the first one."""
    found = None
    for valid_from, rate in rates:
        if valid_from > on_date:
            break
        found = rate
    return found


def _quantized(value: Decimal) -> Decimal:
    return max(value.quantize(RATE_PLACES, rounding=ROUND_HALF_UP), SMALLEST_RATE)


def rebased_rates(
    *, table: dict[str, list[tuple[dt.date, Decimal]]], old_currency: str, new_currency: str
) -> dict[str, list[tuple[dt.date, Decimal]]]:
    """The rate table (currency -> [(valid_from, rate into OLD)] by date) re-expressed into NEW.

    On every date where NEW→OLD has a rate, each currency with a rate in force gets X→OLD / NEW→OLD and OLD gets
    1 / NEW→OLD; a currency's own rate dates are converted with the NEW→OLD rate in force on them, so each
    conversion on any date gives what it gave before. Raises ValidationError on `currency`, naming the missing
    NEW→OLD rate, when there is none at all or a rate starts before the first one."""
    divisors = table.get(new_currency, [])
    if not divisors:
        raise ValidationError(
            {
                "currency": _(
                    "Switching the reporting currency to %(new)s needs an exchange rate %(new)s → %(old)s "
                    "(1 %(new)s in %(old)s). Add it under Exchange rates first."
                )
                % {"new": new_currency, "old": old_currency}
            }
        )
    divisor_dates = [valid_from for valid_from, _rate in divisors]
    result: dict[str, list[tuple[dt.date, Decimal]]] = {
        old_currency: [(valid_from, _quantized(1 / rate)) for valid_from, rate in divisors]
    }
    for currency, rates in sorted(table.items()):
        if currency in (new_currency, old_currency):
            continue
        first = rates[0][0]
        dates = sorted({valid_from for valid_from, _rate in rates} | {d for d in divisor_dates if d >= first})
        converted = []
        for on_date in dates:
            divisor = _in_force(divisors, on_date)
            if divisor is None:
                raise ValidationError(
                    {
                        "currency": _(
                            "Switching the reporting currency to %(new)s needs an exchange rate %(new)s → "
                            "%(old)s valid on %(date)s, to convert the %(currency)s rate from that date. Add it "
                            "under Exchange rates first."
                        )
                        % {
                            "new": new_currency,
                            "old": old_currency,
                            "date": on_date.isoformat(),
                            "currency": currency,
                        }
                    }
                )
            rate = _in_force(rates, on_date)
            if rate is not None:  # always: on_date is on or after the currency's first date
                converted.append((on_date, _quantized(rate / divisor)))
        result[currency] = converted
    return result


@transaction.atomic
@stamps_actor
def exchange_rates_rebase(
    *, tenant: Tenant, actor: User | None, old_currency: str, new_currency: str
) -> dict[str, Any]:
    """Re-express the tenant's rate table from OLD into NEW (see rebased_rates) and reprice every deal.

    Side effects: the rate table replaced (two statements), amount_reporting of all deals recomputed set-based.
    Raises ValidationError on `currency` when a needed NEW→OLD rate is missing (nothing is changed then)."""
    old_currency, new_currency = old_currency.upper(), new_currency.upper()
    if old_currency == new_currency:
        return {"rates": 0, "deals": 0}
    table: dict[str, list[tuple[dt.date, Decimal]]] = {}
    for currency, valid_from, rate in (
        ExchangeRate.objects.filter(tenant=tenant)
        .order_by("currency", "valid_from")
        .values_list("currency", "valid_from", "rate")
    ):
        table.setdefault(currency, []).append((valid_from, rate))
    if not table and not Opportunity.objects.filter(tenant=tenant).exclude(currency=new_currency).exists():
        # Nothing is converted (a tenant fixing its currency before any rate or foreign deal): no rate needed.
        return {"rates": 0, "deals": opportunities_reprice(tenant=tenant, actor=actor)}
    rebased = rebased_rates(table=table, old_currency=old_currency, new_currency=new_currency)
    ExchangeRate.objects.filter(tenant=tenant).delete()
    rows = ExchangeRate.objects.bulk_create(
        [
            ExchangeRate(tenant=tenant, currency=currency, valid_from=valid_from, rate=rate)
            for currency, rates in rebased.items()
            for valid_from, rate in rates
        ]
    )
    deals = opportunities_reprice(tenant=tenant, actor=actor)
    return {"rates": len(rows), "deals": deals}


def on_reporting_currency_changed(  # type: ignore[no-untyped-def]
    sender, tenant: Tenant, actor: User | None, old_currency: str, new_currency: str, **kwargs
) -> None:
    """crm's `tenant_currency_changed` receiver (connected in AccountsConfig.ready)."""
    exchange_rates_rebase(tenant=tenant, actor=actor, old_currency=old_currency, new_currency=new_currency)
