"""leads.api is a package, one module per entity: leads.py (the lead endpoints: CRUD, inbox, status, assignment,
claims, conversion, pool, duplicates, history and merges) with lead_serializers.py, pool_serializers.py and
merge_serializers.py; sources.py, campaigns.py, territories.py, scoring.py and setup_base.py (what those four
share). Routes: leads/api_urls.py."""
