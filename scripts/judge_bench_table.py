import json

from lemma.judging.run import write_table
from lemma.pipeline.runner import start

log = start(snakemake)
summaries = [json.loads(open(f).read()) for f in snakemake.input]
log.info("judge benchmark:\n%s", write_table(summaries, "results/judge", html=snakemake.output.html))
