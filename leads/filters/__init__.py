"""django-filter FilterSets of the leads app, one module per entity: leads.py (the inbox and pool filters),
sources.py, campaigns.py, territories.py, scoring.py (the set-up lists). Shared by the pages and the API."""
