"""Typed config schemas of the task-specific data and model groups (one module per task)."""
