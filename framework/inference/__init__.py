"""Inference strategies, kept apart from the models: sampling for generators, search for translators."""
