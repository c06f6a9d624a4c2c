from lemma.pipeline.runner import problems, start
from lemma.world.student import pretrain_student

log = start(snakemake)
rows = problems(snakemake).to_dicts()
summary = pretrain_student(rows, snakemake.output[0], dict(snakemake.params.pretrain, seed=snakemake.params.seed,
                                                            threads=snakemake.threads))
log.info("pre-training done: %s", summary)
