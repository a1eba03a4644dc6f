"""Pages of the accounts app, one module per entity: accounts.py, contacts.py, activities.py (and tasks),
opportunities.py (deals), opportunity_board.py (the board and stage moves), pipelines.py, rates.py, merges.py;
common.py holds the helpers they share."""
