from pathlib import Path

from lemma.pipeline.runner import start
from lemma.report.tables import plot_loss_overlay, read_curves
from lemma.tables.io import atomic_path

log = start(snakemake)
curves = {v: read_curves(Path(d) / "curves.csv") for v, d in zip(snakemake.params.variants, snakemake.input)}
with atomic_path(snakemake.output[0]) as tmp:
    plot_loss_overlay(curves, tmp)
log.info("loss of %s", list(curves))
