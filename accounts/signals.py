"""Signals the accounts app sends so that apps above it (leads, lifecycle) can react without accounts importing them."""

from django.dispatch import Signal

# Sent inside the transaction before an activity linked to a lead is logged: `tenant`, `actor` (User or None for
# the system), `lead`. A receiver raises PermissionDenied to refuse (the leads app: edit rights on the lead).
# Sent with sender=Activity for each lead an activity (or an import chunk's set of them) is logged on: the receivers
# are cached per sender (use_caching; Django clears the cache when one connects or disconnects).
activity_logging = Signal(use_caching=True)

# Sent inside the same transaction right after an activity linked to a lead was saved (logged, or a task on it
# completed): `tenant`, `lead`, `at` (when it happened; None for an open task), `kind`, `done`. The leads app moves
# the lead's activity clock and status and rescores it.
activity_logged = Signal(use_caching=True)  # sender=Activity, for each activity: cached like activity_logging

# activity_logging for many activities at once (accounts.services.activities_log_many, an import's chunk), sent once
# for the set before it is written: `tenant`, `actor`, `leads` (each lead the set logs on, once). A receiver returns
# {lead id: the PermissionDenied that refuses logging on that lead} (the leads app: the same edit-rights rule).
activities_logging_many = Signal(use_caching=True)

# Sent inside the transaction after many activities were logged at once (accounts.services.activities_log_many, an
# import's chunk; no post_save is sent): `tenant`, `activities` (the saved Activity rows). The leads app moves the
# activity clocks and statuses of their leads and rescores them as a set; lifecycle recomputes the accounts' health.
activities_logged_many = Signal()

# Sent inside the transaction after many activities were updated at once (accounts.services.activities_update_many,
# an import's file imported again; no post_save is sent): `tenant`, `activities`. What their post_save would have
# done follows: lifecycle recomputes the accounts' health, the KPIs are recomputed.
activities_updated_many = Signal()

# Sent inside the transaction after many deals were created at once (accounts.services.opportunities_create_many, an
# import's chunk; no post_save is sent for them or their first StageChanges): `tenant`, `opportunities` (the saved
# deals, their stages loaded). What those post_saves did follows: lifecycle recomputes the accounts' stages (and the
# health of the accounts of renewal deals). opportunities_changed is sent for the set too (the KPIs).
opportunities_created_many = Signal()

# Sent on commit after a deal changed stage (incl. creation): `tenant`, `opportunity`, `from_stage`, `to_stage`,
# `actor`. Lifecycle and KPI code listen here instead of importing the deal services' internals.
opportunity_stage_changed = Signal()

# Sent on commit after an activity changed through a queryset update (no post_save): a task completed or reopened,
# snoozed, an activity deleted or restored. `tenant_id`, `activity_id`, `account_id` (None when not on an account),
# `change` ("completed", "reopened", "snoozed", "deleted", "restored"). Lifecycle recomputes the account's health.
activity_changed = Signal()

# Sent inside the transaction after deals changed through a queryset update (no post_save): edited, moved, won or
# lost, deleted, restored, linked to their leads. `tenant_id`. The KPI code queues its debounced recompute and the
# refresh of the current periods when the transaction commits.
opportunities_changed = Signal()
