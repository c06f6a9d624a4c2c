from lemma.pipeline.judges import locate_student_errors
from lemma.pipeline.runner import check_teacher, finish, graded, problems, start, teacher
from lemma.tables.io import write_table
from lemma.tables.records import STEP_LABELS

log = start(snakemake)
t = teacher(snakemake)
# the cap's seeded draw: the rule's `seed` param when it has one, else the config's seed
seed = getattr(snakemake.params, "seed", snakemake.config.get("seed", 0))
rows, stats = locate_student_errors(problems(snakemake), graded(snakemake), t, snakemake.params.max_items, seed)
t.close()
check_teacher(stats, snakemake)  # too many unanswered requests: fail, write nothing
write_table(rows, snakemake.output.steps, STEP_LABELS)
finish(log, stats, snakemake.output.stats)
