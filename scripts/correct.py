from lemma.pipeline.correct import correct
from lemma.pipeline.runner import check_teacher, finish, graded, problems, start, teacher
from lemma.tables.io import read_table, write_table
from lemma.tables.records import CORRECTIONS, STEP_LABELS, TRUNCATED

log = start(snakemake)
t = teacher(snakemake)
# the step judge's table, when the rule passes it: samples it judged correct join Fresh & Restart's guides
steps_in = getattr(snakemake.input, "steps", None)  # fresh_restart only: [] or the path (or [path])
steps_in = [steps_in] if isinstance(steps_in, str) else list(steps_in or [])
steps = read_table(steps_in[0], STEP_LABELS) if steps_in else None
rows, stats = correct(
    problems(snakemake),
    read_table(snakemake.input.truncated, TRUNCATED),
    graded(snakemake),
    t,
    snakemake.wildcards.strategy,
    snakemake.params.phrases,
    steps,
)
t.close()
check_teacher(stats, snakemake)  # too many unanswered requests: fail, write nothing
write_table(rows, snakemake.output.table, CORRECTIONS)
finish(log, stats, snakemake.output.stats)
