import json
from pathlib import Path

from lemma.pipeline.runner import start
from lemma.pipeline.training import run_training

log = start(snakemake)
summary = run_training(
    snakemake.params.model,
    snakemake.input.sft,
    snakemake.output[0],
    snakemake.params.training,
    snakemake.threads,
    snakemake.params.checkpoints,
)
# the protocol's budget as it was resolved for this set (rows, tokens, steps), next to the model
(Path(snakemake.output[0]) / "budget.json").write_text(json.dumps(summary["budget"], indent=2) + "\n")
log.info("training of %s done: %s", snakemake.wildcards.run, summary)
