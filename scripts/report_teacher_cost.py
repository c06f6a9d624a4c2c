from lemma.config import load_taxonomy
from lemma.cost.estimate import Estimator
from lemma.cost.render import describe, format_table, html_table
from lemma.cost.rows import grouped
from lemma.pipeline.runner import start
from lemma.tables.io import write_text

log = start(snakemake)
est = Estimator(dict(snakemake.config), load_taxonomy(snakemake.config["taxonomy"]))
try:
    rows = grouped(est.run())
    header = describe(est)
finally:
    est.close()
log.info("teacher cost:\n%s", format_table(rows, header))
write_text(html_table(rows, header.replace("\n", "; ")), snakemake.output[0])
