from lemma.pipeline.evaluate import evaluate
from lemma.pipeline.runner import eval_spec, evaluated_student, problems, start
from lemma.tables.io import write_table
from lemma.tables.records import EVAL

log = start(snakemake)
w = snakemake.wildcards
rows = evaluate(problems(snakemake), evaluated_student(snakemake), eval_spec(snakemake))
df = write_table(rows, snakemake.output[0], EVAL)
log.info("%s on %s: %.1f%% of %d", w.run, w.benchmark, 100 * (df["correct"].mean() or 0.0), df.height)
