"""API of the accounts app, one module per entity: accounts.py, contacts.py, activities.py, opportunities.py
(with opportunity_serializers.py), pipelines.py, rates.py, merges.py, history.py (serializers); common.py and
fields.py are shared. Routes: accounts/api_urls.py."""
