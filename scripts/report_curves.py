from pathlib import Path

from lemma.pipeline.runner import start
from lemma.report.curves import plot_curves
from lemma.report.tables import read_curves
from lemma.tables.io import atomic_path

log = start(snakemake)
rows = read_curves(Path(snakemake.input[0]) / "curves.csv")
with atomic_path(snakemake.output[0]) as tmp:
    plot_curves(rows, tmp, title=f"run {snakemake.wildcards.run}")
log.info("%d logged steps; last loss %s", len(rows), rows[-1]["loss"] if rows else None)
