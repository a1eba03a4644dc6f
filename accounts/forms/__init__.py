"""Forms of the accounts app, one module per entity (accounts, contacts, activities, rates, merges,
opportunities, pipelines) and common.py for what they share."""
