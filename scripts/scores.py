from lemma.io import atomic_path, read_table, write_text
from lemma.pipeline.evaluate import markdown_table, score_table
from lemma.pipeline.runner import start
from lemma.records import EVAL

log = start(snakemake)
p = snakemake.params
pairs = [(v, b) for v in p.variants for b in p.benchmarks]
evals = {pair: read_table(path, EVAL) for pair, path in zip(pairs, snakemake.input.greedy)}
columns = list(p.benchmarks)
if p.maj_k:  # maj@k columns beside the greedy ones, as the paper's extra
    evals |= {(v, f"{b} maj@{p.maj_k}"): read_table(path, EVAL) for (v, b), path in zip(pairs, snakemake.input.majority)}
    columns += [f"{b} maj@{p.maj_k}" for b in p.benchmarks]
scores = score_table(evals)
with atomic_path(snakemake.output.csv) as tmp:
    scores.write_csv(tmp)
table = markdown_table(scores, p.variants, columns, average_over=list(p.benchmarks))
write_text(table, snakemake.output.md)
log.info("\n%s", table)
