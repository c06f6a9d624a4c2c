from lemma.io import read_table, write_table
from lemma.pipeline.correct import correct
from lemma.pipeline.runner import finish, graded, problems, start, teacher
from lemma.records import CORRECTIONS, STEP_LABELS, TRUNCATED

log = start(snakemake)
t = teacher(snakemake)
# the step judge's table, when the rule passes it: samples it judged correct join Fresh & Restart's guides
steps = read_table(snakemake.input.steps, STEP_LABELS) if hasattr(snakemake.input, "steps") else None
rows, stats = correct(problems(snakemake), read_table(snakemake.input.truncated, TRUNCATED), graded(snakemake), t,
                      snakemake.wildcards.strategy, snakemake.params.phrases, steps)
t.close()
write_table(rows, snakemake.output.table, CORRECTIONS)
finish(log, stats, snakemake.output.stats)
