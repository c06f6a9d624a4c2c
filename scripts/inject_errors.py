from lemma.pipeline.augment import inject_errors, injections_for_type
from lemma.pipeline.runner import check_teacher, finish, graded, problems, start, teacher
from lemma.tables.io import read_table, write_table
from lemma.tables.records import MISTAKES, TAXONOMY_STATS
from lemma.teacher.base import TypeSpec

log = start(snakemake)
aug = snakemake.params.augment
spec = TypeSpec.from_dict(snakemake.params.spec)
stats_table = read_table(snakemake.input.stats[0], TAXONOMY_STATS) if snakemake.input.stats else None
n = injections_for_type(aug["per_problem"], aug["weighting"], spec.name, stats_table, aug["types"])
log.info("%s: %d injection(s) per failed problem (weighting: %s)", spec.name, n, aug["weighting"])
t = teacher(snakemake)
rows, stats = inject_errors(problems(snakemake), graded(snakemake), t, spec, n, aug["max_problems"])
t.close()
check_teacher(stats, snakemake)  # too many unanswered requests: fail, write nothing
write_table(rows, snakemake.output.mistakes, MISTAKES)
finish(log, stats, snakemake.output.stats)
