from lemma.pipeline.judges import classify_student_errors
from lemma.pipeline.runner import check_teacher, finish, problems, start, teacher
from lemma.tables.io import read_table, write_table
from lemma.tables.records import STEP_LABELS, TYPE_LABELS
from lemma.teacher.base import TypeSpec

log = start(snakemake)
taxonomy = [TypeSpec.from_dict(t) for t in snakemake.params.taxonomy]
t = teacher(snakemake)
rows, stats = classify_student_errors(problems(snakemake), read_table(snakemake.input.steps, STEP_LABELS), t, taxonomy)
t.close()
check_teacher(stats, snakemake)  # too many unanswered requests: fail, write nothing
write_table(rows, snakemake.output.labels, TYPE_LABELS)
finish(log, stats, snakemake.output.stats)
