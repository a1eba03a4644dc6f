"""Reads of the accounts app, one module per entity: accounts.py, contacts.py, activities.py (and tasks),
opportunities.py (deals), opportunity_board.py, opportunity_pages.py (keyset pages), pipelines.py, rates.py,
merges.py, history.py, timeline.py, duplicates.py; visibility.py (who sees what), members.py and common.py are
shared."""
