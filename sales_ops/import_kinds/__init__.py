"""The import/export kinds sales_ops registers with the imports app."""
