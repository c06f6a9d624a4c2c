from lemma.pipeline.runner import start
from lemma.pipeline.training import run_training

log = start(snakemake)
summary = run_training(snakemake.params.model, snakemake.input.sft, snakemake.output[0], snakemake.params.training,
                       snakemake.threads, snakemake.params.checkpoints)
log.info("training of %s done: %s", snakemake.wildcards.variant, summary)
