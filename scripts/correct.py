from lemma.io import read_table, write_table
from lemma.pipeline.correct import correct
from lemma.pipeline.runner import check_teacher, finish, graded, problems, start, teacher
from lemma.records import CORRECTIONS, TRUNCATED

log = start(snakemake)
t = teacher(snakemake)
rows, stats = correct(problems(snakemake), read_table(snakemake.input.truncated, TRUNCATED), graded(snakemake), t,
                      snakemake.wildcards.strategy, snakemake.params.phrases)
t.close()
check_teacher(stats, snakemake)  # too many unanswered requests: fail, write nothing
write_table(rows, snakemake.output.table, CORRECTIONS)
finish(log, stats, snakemake.output.stats)
