from lemma.engines.factory import build_engine
from lemma.pipeline.runner import start
from lemma.pipeline.sample import sample_shard, shard_of
from lemma.tables.io import read_table, write_table
from lemma.tables.records import PROBLEMS, SAMPLES

log = start(snakemake)
p = snakemake.params
shard = int(snakemake.wildcards.shard)
todo = shard_of(read_table(snakemake.input.problems, PROBLEMS), shard, p.sampling["shards"], p.sampling["max_problems"])
engine = build_engine(dict(p.student, model=p.model, threads=snakemake.threads))
rows = sample_shard(todo, engine, p.template, p.sampling, shard)
write_table(rows, snakemake.output[0], SAMPLES)
log.info("%d samples of %d problems", len(rows), todo.height)
