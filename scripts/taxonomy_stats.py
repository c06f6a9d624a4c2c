from lemma.pipeline.judges import plot_taxonomy, taxonomy_stats
from lemma.pipeline.runner import start
from lemma.tables.io import atomic_path, read_table, write_table
from lemma.tables.records import TAXONOMY_STATS, TYPE_LABELS
from lemma.teacher.base import TypeSpec

log = start(snakemake)
taxonomy = [TypeSpec.from_dict(t) for t in snakemake.params.taxonomy]
rows = taxonomy_stats(read_table(snakemake.input[0], TYPE_LABELS), taxonomy)
write_table(rows, snakemake.output.table, TAXONOMY_STATS)
with atomic_path(snakemake.output.plot) as tmp:
    plot_taxonomy(rows, tmp)
for r in sorted(rows, key=lambda r: -r["count"]):
    log.info("%-28s %5d  %5.1f%%", r["error_type"], r["count"], 100 * r["share"])
