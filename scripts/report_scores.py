import polars as pl

from lemma.pipeline.runner import start
from lemma.report.tables import scores_html
from lemma.tables.io import write_text
from lemma.tables.scores import scores_table

log = start(snakemake)
scores = pl.read_csv(snakemake.input.scores)
# an empty list of variants or benchmarks: those of the scores table; the reflection columns as in
# results/scores.md (the same table builder, the same inputs)
table = scores_table(
    scores,
    snakemake.params.variants or None,
    snakemake.params.benchmarks or None,
    mechanism=pl.read_csv(snakemake.input.mechanism),
)
write_text(scores_html(table), snakemake.output[0])
log.info("scores of %d variant x benchmark pairs", scores.height)
