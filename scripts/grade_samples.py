import polars as pl

from lemma.pipeline.grade import grade_samples
from lemma.pipeline.runner import problems, read_all, start
from lemma.tables.io import write_table
from lemma.tables.records import GRADED, SAMPLES

log = start(snakemake)
rows = grade_samples(
    problems(snakemake),
    read_all(snakemake.input.shards, SAMPLES),
    workers=snakemake.threads,
    timeout=snakemake.params.grading["timeout_s"],
    require_marker=snakemake.params.grading["require_marker"],
)
df = write_table(rows, snakemake.output[0], GRADED)
per_problem = df.group_by("problem_id").agg(any_ok=pl.col("correct").any(), all_ok=pl.col("correct").all())
log.info(
    "student accuracy %.1f%% over %d samples of %d problems; %d problems with both right and wrong samples",
    100 * (df["correct"].mean() or 0.0),
    df.height,
    per_problem.height,
    per_problem.filter(pl.col("any_ok") & ~pl.col("all_ok")).height,
)
log.info("grade statuses: %s", dict(df.group_by("status").len().iter_rows()))
