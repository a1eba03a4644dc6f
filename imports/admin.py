"""No Django admin for import jobs on purpose: the admin is for platform staff (tenants and users, crm/admin.py)
and would read every tenant's uploaded files at once. Jobs are seen inside each tenant (pages and API)."""
