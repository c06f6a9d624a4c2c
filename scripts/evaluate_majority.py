from lemma.engines.factory import build_engine
from lemma.io import read_table, write_table
from lemma.pipeline.evaluate import majority_vote
from lemma.pipeline.runner import start
from lemma.records import EVAL, PROBLEMS

log = start(snakemake)
p, w = snakemake.params, snakemake.wildcards
probs = read_table(snakemake.input.problems, PROBLEMS)
engine = build_engine(
    dict(p.student, model=snakemake.input.model, batch_size=p.evaluation["batch_size"], threads=snakemake.threads)
)
k = p.evaluation["maj_k"]
rows = majority_vote(
    probs,
    engine,
    p.template,
    p.source.get("shots", 0),
    w.benchmark,
    p.evaluation["max_new_tokens"],
    k,
    seed=p.seed,
    grade_timeout=p.grading["timeout_s"],
    source_format=p.source.get("format"),
)
df = write_table(rows, snakemake.output[0], EVAL)
log.info("%s on %s, maj@%d: %.1f%% of %d", w.run, w.benchmark, k, 100 * (df["correct"].mean() or 0.0), df.height)
