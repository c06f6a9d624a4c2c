import polars as pl

from lemma.pipeline.runner import start
from lemma.study.stats import PAIRED_COLUMNS, compare_runs, paired_html, pick_baseline
from lemma.tables.io import atomic_path, read_table, write_text
from lemma.tables.records import EVAL

log = start(snakemake)
p = snakemake.params
pairs = [(run, b) for run in p.runs for b in p.benchmarks]  # the order of get_greedy_evals
correct: dict = {}
for (run, bench), path in zip(pairs, snakemake.input.evals):
    variant, seed = p.runs[run]
    df = read_table(path, EVAL)
    correct.setdefault((variant, bench), {})[seed] = dict(zip(df["problem_id"], df["correct"]))
rows = compare_runs(correct, list(p.variants), list(p.benchmarks), pick_baseline(list(p.variants)), seed=p.seed)
table = pl.DataFrame(
    rows,
    schema={
        c: (
            pl.Utf8
            if c in ("benchmark", "variant", "baseline")
            else pl.Int64
            if c in ("seeds", "items", "only_variant", "only_baseline")
            else pl.Float64
        )
        for c in PAIRED_COLUMNS
    },
    orient="row",
)
with atomic_path(snakemake.output.csv) as tmp:
    table.write_csv(tmp)
write_text(paired_html(rows), snakemake.output.html)
log.info("\n%s", table)
