"""load_problems: a dataset's problems as a PROBLEMS table, from the built-in world or a file."""

from __future__ import annotations


def load_problems(name: str, source: dict, world: dict) -> list[dict]:
    if source["source"] == "builtin":
        from lemma.world.problems import generate_world

        splits = generate_world(world["seed"], world["n_train"], world["n_test"], world["n_test_ood"])
        rows = [dict(r, dataset=name) for r in splits[source["split"]]]
    else:
        from lemma.data.loaders import load_dataset_file

        rows = load_dataset_file(source["path"], source["format"], name)
        for r in rows:
            r["style"] = source.get("style") or r.get("style")
    if source.get("limit"):
        rows = rows[: source["limit"]]
    return rows
