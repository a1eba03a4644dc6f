"""Django forms of the leads app, one module per entity: leads.py (lead, status, assignment, bulk actions,
conversion, merge, pool settings), sources.py, campaigns.py, territories.py, scoring.py."""
