"""The method's fixed vocabularies: names that appear in file paths, table columns, drop reasons,
the config and the CLI, defined once.

Python code imports them from here; the Snakemake rules too (this module imports nothing, so the
Snakefile stays quick to parse). The config schema cannot import Python: tests/test_vocabulary.py
checks its enums against these tuples. The error types are data, not vocabulary: they live in
config/taxonomy.yaml.
"""

from __future__ import annotations

# How a teacher corrects a wrong attempt after the reflection phrase: continue from the fixed
# step (Fix & Continue) or solve again from the start (Fresh & Restart). In this order in tables.
FIX_CONTINUE = "fix_continue"
FRESH_RESTART = "fresh_restart"
STRATEGIES = (FIX_CONTINUE, FRESH_RESTART)

# Where a wrong attempt is cut before its correction: after its first wrong step (the method as
# published) or not at all (the whole attempt). In this order in tables.
FIRST_ERROR = "first_error"
WHOLE = "whole"
CUTS = (FIRST_ERROR, WHOLE)


def cut_for(truncate: bool) -> str:
    """The cut of a variant's trajectories from its `truncate` setting."""
    return FIRST_ERROR if truncate else WHOLE


# The teacher's stages, in the order a run calls them (cache jobs, cost estimates, LLM prompts).
TEACHER_STAGES = ("locate", "classify", "inject", *STRATEGIES, "smooth")

# The bucket of the student's own wrong samples; every other bucket is an injected error type.
STUDENT_BUCKET = "student"

# The built-in world's splits.
WORLD_SPLITS = ("train", "test", "test_ood")

# Drop reasons shared between the stage that writes them and the funnel that reads them.
# A judge's verdict that the solution is correct ("<stage>:judged_correct").
JUDGED_CORRECT = "judged_correct"
# The oracle's verdict that the solution has no wrong step (it reads no reply, so it has no stage).
NOT_WRONG = "not_wrong"


def says_no_error(dropped: str | None) -> bool:
    """Whether a drop reason is a judge's verdict that the solution has no error: an LLM judge's
    "<stage>:judged_correct" or the oracle's "not_wrong". Readers of verdicts (the judge
    benchmark, a run's labels read as a set) ask this rather than spell either."""
    return bool(dropped) and (dropped == NOT_WRONG or dropped.endswith(f":{JUDGED_CORRECT}"))


# The smoothed trajectory graded, its final answer wrong: the method's final filter.
FINAL_ANSWER_WRONG = "final_answer_wrong"
# The grader could not grade (timeout, error): "grade_<status>".
GRADE_DROP_PREFIX = "grade_"


def grade_drop(status: str) -> str:
    """The drop reason of a text the grader could not grade."""
    return f"{GRADE_DROP_PREFIX}{status}"
