"""leads.views is a package of page modules, one per entity or flow: leads.py (inbox, lead page, create, edit,
delete, restore, status), pool.py (assignment, claims, the pool and its settings), conversion.py, merges.py,
duplicates.py, helpers.py (what the lead pages share); sources.py, campaigns.py, territories.py, scoring.py and
setup_helpers.py (what those four share). Routes: leads/urls.py."""
