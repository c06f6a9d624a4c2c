import polars as pl

from lemma.pipeline.runner import start
from lemma.study.mechanism import SUMMARY_COLUMNS, measure, mechanism_html, plot_outcomes, reflection_markers
from lemma.tables.io import atomic_path, read_table, write_text
from lemma.tables.records import EVAL, PROBLEMS

log = start(snakemake)
p = snakemake.params
pairs = [(run, b) for run in p.runs for b in p.benchmarks]  # the order of get_greedy_evals
evals = {pair: read_table(path, EVAL) for pair, path in zip(pairs, snakemake.input.evals)}
structures = {}
for bench, path in zip(p.benchmarks, snakemake.input.problems):
    probs = read_table(path, PROBLEMS)
    structures[bench] = dict(zip(probs["id"], probs["structure"]))
summary, typed = measure(evals, structures, dict(p.runs), reflection_markers(p.phrases))
ints = {"seed", "n", "reflects", "self_correction", "wrong_to_wrong", "harmful", "false_alarm", "unknown"}
schema = {c: pl.Int64 if c in ints else pl.Float64 if c == "reflect_rate" else pl.Utf8 for c in SUMMARY_COLUMNS}
with atomic_path(snakemake.output.csv) as tmp:
    pl.DataFrame(summary, schema=schema, orient="row").write_csv(tmp)
type_schema = {
    "run": pl.Utf8,
    "variant": pl.Utf8,
    "seed": pl.Int64,
    "benchmark": pl.Utf8,
    "error_type": pl.Utf8,
    "self_correction": pl.Int64,
    "wrong_to_wrong": pl.Int64,
}
with atomic_path(snakemake.output.by_type) as tmp:
    pl.DataFrame(typed, schema=type_schema, orient="row").write_csv(tmp)
with atomic_path(snakemake.output.plot) as tmp:
    plot_outcomes(summary, tmp)
write_text(mechanism_html(summary, typed), snakemake.output.html)
log.info("reflections: %s", [(r["run"], r["benchmark"], r["reflects"], r["self_correction"]) for r in summary])
