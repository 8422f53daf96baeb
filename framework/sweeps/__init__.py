"""Sweeps: failure-tolerant trials, reading a sweep dir's trials, and the Optuna search space."""
