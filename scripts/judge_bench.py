from lemma.judging.run import run_set
from lemma.pipeline.runner import start, teacher_config

log = start(snakemake)
p = snakemake.params
summary = run_set(snakemake.wildcards.jset, p.spec, teacher_config(snakemake), p.seed, out_dir="results/judge")
log.info("judge bench %s: %s", snakemake.wildcards.jset, summary)
