"""Writes of the accounts app, one module per entity: accounts.py (and the account team), contacts.py,
activities.py, opportunities.py (deals), opportunity_contacts.py, pipelines.py (and stages), rates.py (exchange
rates, conversion, repricing), merges.py; opportunity_rules.py and common.py hold the checks they share."""
