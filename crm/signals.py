"""Signals other apps listen to, so crm does not import them."""

from django.dispatch import Signal

# Sent inside the tenant's context right after a tenant is created: `tenant`, `admin` (Membership).
tenant_created = Signal()
