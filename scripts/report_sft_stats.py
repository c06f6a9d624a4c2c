from lemma.pipeline.runner import start
from lemma.report.tables import read_sft_stats, sft_overview, sft_stats_html
from lemma.tables.io import atomic_path, write_text

log = start(snakemake)
stats = read_sft_stats(dict(zip(snakemake.params.variants, snakemake.input)))
with atomic_path(snakemake.output.csv) as tmp:
    sft_overview(stats).write_csv(tmp)
write_text(sft_stats_html(stats), snakemake.output.html)
log.info("SFT sets:\n%s", sft_overview(stats))
