import polars as pl

from lemma.io import write_text
from lemma.pipeline.runner import start
from lemma.report.tables import scores_html

log = start(snakemake)
scores = pl.read_csv(snakemake.input[0])
write_text(scores_html(scores, snakemake.params.variants, snakemake.params.benchmarks), snakemake.output[0])
log.info("scores of %d variant x benchmark pairs", scores.height)
