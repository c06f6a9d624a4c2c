import polars as pl

from lemma.pipeline.evaluate import aggregate_seeds, markdown_table, paired_markdown, score_table
from lemma.pipeline.runner import start
from lemma.tables.io import atomic_path, read_table, write_text
from lemma.tables.records import EVAL
from lemma.tables.scores import scores_table

log = start(snakemake)
p = snakemake.params
pairs = [(run, b) for run in p.runs for b in p.benchmarks]  # the order of get_greedy_evals
evals = {pair: read_table(path, EVAL) for pair, path in zip(pairs, snakemake.input.greedy)}
columns = list(p.benchmarks)
if p.maj_k:  # maj@k columns beside the greedy ones, as the paper's extra
    evals |= {
        (run, f"{b} maj@{p.maj_k}"): read_table(path, EVAL) for (run, b), path in zip(pairs, snakemake.input.majority)
    }
    columns += [f"{b} maj@{p.maj_k}" for b in p.benchmarks]
runs = dict(p.runs)
run_scores = score_table(evals)
with atomic_path(snakemake.output.runs) as tmp:
    run_scores.with_columns(
        pl.col("variant").replace_strict({r: v for r, (v, _) in runs.items()}).alias("variant"),
        pl.col("variant").alias("run"),
        pl.col("variant").replace_strict({r: s for r, (_, s) in runs.items()}, return_dtype=pl.Int64).alias("seed"),
    ).write_csv(tmp)
scores = aggregate_seeds(run_scores, runs)
with atomic_path(snakemake.output.csv) as tmp:
    scores.write_csv(tmp)
mechanism = pl.read_csv(snakemake.input.mechanism)
paired = pl.read_csv(
    snakemake.input.paired,
    schema_overrides={"mcnemar_p": pl.Float64, "only_variant": pl.Int64, "only_baseline": pl.Int64},
)
table = markdown_table(
    scores_table(scores, p.variants, columns, average_over=list(p.benchmarks), mechanism=mechanism), p.protocol
)
table += "\n" + paired_markdown(paired)
write_text(table, snakemake.output.md)
log.info("\n%s", table)
