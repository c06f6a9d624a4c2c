from lemma.pipeline.correct import truncate_mistakes, truncate_student
from lemma.pipeline.runner import check_teacher, finish, problems, start, teacher
from lemma.tables.io import read_table, write_table
from lemma.tables.records import MISTAKES, STEP_LABELS, TRUNCATED

log = start(snakemake)
w = snakemake.wildcards
if w.bucket == "student":
    rows, stats = truncate_student(problems(snakemake), read_table(snakemake.input.wrong, STEP_LABELS), w.cut)
else:
    t = teacher(snakemake)
    rows, stats = truncate_mistakes(problems(snakemake), read_table(snakemake.input.wrong, MISTAKES), t, w.cut)
    t.close()
    check_teacher(stats, snakemake)  # too many unanswered requests: fail, write nothing
write_table(rows, snakemake.output.table, TRUNCATED)
finish(log, stats, snakemake.output.stats)
