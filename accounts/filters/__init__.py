"""django-filter FilterSets of the accounts app, one module per entity, shared by the pages and the API;
sorting.py holds the sort orders and cursor paginations of the list APIs."""
