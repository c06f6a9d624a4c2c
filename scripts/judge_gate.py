import json

from lemma.judging.gate import check_gate
from lemma.pipeline.runner import start

log = start(snakemake)
summary = json.loads(open(snakemake.input[0]).read())
verdict = check_gate(summary, snakemake.params.gate)  # raises, naming the figures, below the bar
open(snakemake.output[0], "w").write(json.dumps(verdict, indent=1) + "\n")
log.info("judge gate passed: %s", verdict)
