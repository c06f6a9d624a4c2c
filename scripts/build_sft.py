from lemma.pipeline.runner import problems, read_all, start
from lemma.pipeline.sft import EXPORT_LAYOUTS, export_rows, sft_rows, sft_stats
from lemma.tables.io import read_table, write_json, write_jsonl
from lemma.tables.records import GRADED, TRAJECTORIES, TYPE_LABELS

log = start(snakemake)
probs = problems(snakemake)
traj = read_all(snakemake.input.trajectories, TRAJECTORIES) if snakemake.input.trajectories else None
labels = read_table(snakemake.input.labels[0], TYPE_LABELS) if snakemake.input.labels else None
graded = read_all(snakemake.input.graded, GRADED) if snakemake.input.graded else None
rows = sft_rows(probs, traj, snakemake.params.variant, snakemake.params.template, labels, snakemake.params.seed, graded)
write_jsonl(
    [
        {
            "prompt": r["prompt"],
            "response": r["response"],
            "meta": {k: r[k] for k in r if k not in ("prompt", "response", "question")},
        }
        for r in rows
    ],
    snakemake.output.sft,
)
stats = sft_stats(rows)
write_json(stats, snakemake.output.stats)
questions = dict(zip(probs["id"], probs["question"]))
for layout in EXPORT_LAYOUTS:
    write_jsonl(export_rows(rows, questions, layout), snakemake.output[layout])
log.info("variant %s: %s", snakemake.wildcards.variant, stats)
