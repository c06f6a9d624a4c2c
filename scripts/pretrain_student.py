from lemma.pipeline.runner import problems, start
from lemma.pipeline.training import pretrain_params
from lemma.world.student import pretrain_student

log = start(snakemake)
rows = problems(snakemake).to_dicts()
params = pretrain_params(
    snakemake.params.pretrain,
    snakemake.params.seed,
    snakemake.threads,
    snakemake.params.checkpoints,
    snakemake.params.phrases,
)
summary = pretrain_student(rows, snakemake.output[0], params)
log.info("pre-training done: %s", summary)
