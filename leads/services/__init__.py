"""leads.services is a package of write modules, one per entity or flow. Leads: leads.py (create, edit, delete,
restore), status.py (status flow), activity.py (what a logged activity does to a lead), pool.py (ownership and
the pool), conversion.py, merges.py, duplicates.py (duplicate keys of bulk-written rows), access.py (checks every
lead write shares). Acquisition set-up: sources.py, campaigns.py, territories.py, assignment.py (assignment rules),
scoring.py (scoring rules and scoring), criteria.py. Import from the submodule you need."""
