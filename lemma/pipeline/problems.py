"""load_problems: a dataset's problems as a PROBLEMS table, from the built-in world or a file."""

from __future__ import annotations

from lemma.grading.statement import answer_statement, has_answer_statement


def with_answer_line(solution: str | None, answer: str) -> str | None:
    """Training references end "The answer is: X", like every trajectory the teacher writes, so
    that SFT teaches one answer format (GSM8K's "#### X" is stripped by the loader)."""
    if not solution or has_answer_statement(solution):
        return solution
    return f"{solution.rstrip()}\n{answer_statement(answer)}"


def load_problems(name: str, source: dict, world: dict | None) -> list[dict]:
    if source["source"] == "builtin":
        from lemma.world.problems import DEFAULT_OOD, generate_world

        # the workflow passes test_ood's keys only to test_ood (rules/common.smk, get_source)
        n_ood = world.get("n_test_ood", 0) if source["split"] == "test_ood" else 0
        splits = generate_world(world["seed"], world["n_train"], world["n_test"], n_ood, world.get("ood", DEFAULT_OOD))
        rows = [dict(r, dataset=name) for r in splits[source["split"]]]
    else:
        from lemma.data.loaders import load_dataset_file

        rows = load_dataset_file(source["path"], source["format"], name)
        for r in rows:
            r["style"] = source.get("style") or r.get("style")
            if source.get("role") == "train":
                r["solution"] = with_answer_line(r["solution"], r["answer"])
    if source.get("limit"):
        rows = rows[: source["limit"]]
    return rows
