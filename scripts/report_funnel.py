from lemma.pipeline.runner import start
from lemma.report.funnel import funnel, plot_funnel
from lemma.report.tables import funnel_html
from lemma.tables.io import atomic_path, write_text

log = start(snakemake)
p = snakemake.params
table = funnel(p.results, buckets=p.buckets, cuts=p.cuts, strategies=p.strategies)
with atomic_path(snakemake.output.csv) as tmp:
    table.write_csv(tmp)
with atomic_path(snakemake.output.plot) as tmp:
    plot_funnel(table, tmp)
write_text(funnel_html(table), snakemake.output.html)
log.info("funnel:\n%s", table.write_csv())
