"""Builders of model directories the project can make without a model hub (see smollm2.py)."""
