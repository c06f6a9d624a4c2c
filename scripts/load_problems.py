from lemma.pipeline.problems import load_problems
from lemma.pipeline.runner import start
from lemma.tables.io import write_table
from lemma.tables.records import PROBLEMS

log = start(snakemake)
src = dict(snakemake.params.source)
rows = load_problems(snakemake.wildcards.dataset, src, src.pop("world", None))
write_table(rows, snakemake.output[0], PROBLEMS)
log.info("%d problems written to %s", len(rows), snakemake.output[0])
