"""Writes of the lifecycle app: settings, subscriptions, and the stage engine (stages.py)."""
