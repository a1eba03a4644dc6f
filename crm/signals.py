"""Signals other apps listen to, so crm does not import them."""

from django.dispatch import Signal

# Sent inside the tenant's context right after a tenant is created: `tenant`, `admin` (Membership).
tenant_created = Signal()

# Sent inside the settings transaction after the tenant (saved, inside its context) changed its reporting currency:
# `tenant`, `actor`, `old_currency`, `new_currency`. Receivers (the deals area rebases its exchange rates and
# reprices) may raise ValidationError to refuse the change; the whole change is then rolled back.
tenant_currency_changed = Signal()
