"""leads.selectors is a package of read modules, one per entity or flow. Leads: leads.py (visibility, lists, one
lead, owner choices), inbox.py (inbox rows and keyset pages), pool.py, duplicates.py. Acquisition set-up:
sources.py, campaigns.py, territories.py, scoring.py, funnels.py (lead figures by source and campaign),
setup_roles.py (who reads and edits the set-up), filtering.py. Import from the submodule you need."""
