from lemma.pipeline.evaluate import majority_vote
from lemma.pipeline.runner import eval_spec, evaluated_student, problems, start
from lemma.tables.io import write_table
from lemma.tables.records import EVAL

log = start(snakemake)
w = snakemake.wildcards
k = snakemake.params.evaluation["maj_k"]
rows = majority_vote(
    problems(snakemake), evaluated_student(snakemake), eval_spec(snakemake), k, seed=snakemake.params.seed
)
df = write_table(rows, snakemake.output[0], EVAL)
log.info("%s on %s, maj@%d: %.1f%% of %d", w.run, w.benchmark, k, 100 * (df["correct"].mean() or 0.0), df.height)
