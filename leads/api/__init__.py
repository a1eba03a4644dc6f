"""leads.api is a package: leads.py (leads, inbox, status, conversion, pool, duplicates and merges) and
ops.py (lead sources, campaigns, territories and assignment, scoring rules and scoring). Import from the
submodule you need."""
