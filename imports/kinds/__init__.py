"""The kinds that exist now; each module registers its kinds when imported (imports.apps.ImportsConfig.ready).
Later apps register theirs from their own AppConfig.ready() through imports.registry.register."""

from imports.kinds import accounts, campaigns, leads  # noqa: F401
