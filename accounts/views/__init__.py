"""accounts.views is a package: records.py (accounts, contacts, activities, money, merges, history) and
deals.py (pipelines, stages, opportunities, board). Import from the submodule you need."""
