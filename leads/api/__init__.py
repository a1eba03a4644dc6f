"""leads.api is a package: leads.py (leads, inbox, status, conversion, pool, duplicates, history and merges) with
its serializers and keyset pagination in lead_serializers.py, and ops.py (lead sources, campaigns, territories and
assignment, scoring rules and scoring). Import from the submodule you need."""
