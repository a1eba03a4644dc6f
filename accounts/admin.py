"""No Django admin for the sales workspace on purpose: the admin is for platform staff (tenants and users,
crm/admin.py) and would read every tenant's accounts at once. Tenant data is managed inside each tenant: the
account, contact, task and exchange-rate pages and the API."""
