"""The workflow's stages as plain functions over tables (one module a stage family).

Scripts in scripts/ read Snakemake's inputs, call one of these, and write the outputs; tests call
them directly. Each stage returns its rows plus a `StageStats` saying how many rows came in, went
out, and why the rest were dropped (the data funnel of the report reads these).
"""
