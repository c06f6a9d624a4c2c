from lemma.pipeline.correct import smooth_and_filter
from lemma.pipeline.runner import check_teacher, finish, problems, start, teacher
from lemma.tables.io import read_table, write_table
from lemma.tables.records import CORRECTIONS, TRAJECTORIES

log = start(snakemake)
t = teacher(snakemake)
rows, stats = smooth_and_filter(
    problems(snakemake),
    read_table(snakemake.input.corrections, CORRECTIONS),
    t,
    grade_timeout=snakemake.params.grading["timeout_s"],
    require_marker=snakemake.params.grading["require_marker"],
)
t.close()
check_teacher(stats, snakemake)  # too many unanswered requests: fail, write nothing
write_table(rows, snakemake.output.table, TRAJECTORIES)
finish(log, stats, snakemake.output.stats)
