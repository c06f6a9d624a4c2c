from lemma.pipeline.runner import problems, start
from lemma.report.tables import examples_html, read_trajectories, with_types
from lemma.tables.io import read_table, write_text
from lemma.tables.records import TYPE_LABELS

log = start(snakemake)
bucket = snakemake.wildcards.bucket
labels = read_table(snakemake.input.labels[0], TYPE_LABELS) if snakemake.input.labels else None
traj = with_types(read_trajectories(list(snakemake.input.trajectories)), labels)
probs = problems(snakemake)
title = "The student's own mistakes" if bucket == "student" else f"Injected: {bucket}"
write_text(
    examples_html(
        traj,
        f"Example trajectories: {title}",
        snakemake.params.n_per_strategy,
        questions=dict(zip(probs["id"], probs["question"])),
    ),
    snakemake.output[0],
)
log.info("%s: %d kept trajectories", bucket, traj.height)
