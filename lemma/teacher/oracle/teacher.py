"""`OracleTeacher`: the built-in world's rule-based teacher.

It reads each problem's `structure` JSON (written by lemma.world) and does every teacher job by
computation, not by canned text:
  * locate / classify: re-compute each step (lemma.teacher.oracle.judge);
  * inject: put one error of the asked type into the reference solution and carry the wrong
    value through the later steps (lemma.teacher.oracle.inject);
  * fix_continue / fresh_restart / smooth: write corrections and the smoothed trajectory
    (lemma.teacher.oracle.write).
Rows it cannot serve come back with `dropped` set; it never raises for a bad row.
classify_errors finds the first wrong step itself (a ClassifyRequest's first_wrong_step hint is
for LLM judges and is not needed here), so its type always refers to the step locate_errors gives.
"""

from __future__ import annotations

import logging
import random
from functools import lru_cache

from lemma.teacher.base import (
    ClassifyRequest,
    CorrectRequest,
    InjectRequest,
    LocateRequest,
    Mistake,
    ProblemView,
    SmoothRequest,
    StepLabel,
    Teacher,
    Text,
    TypeLabel,
    TypeSpec,
)
from lemma.teacher.oracle import inject as oracle_inject
from lemma.teacher.oracle import write as oracle_write
from lemma.teacher.oracle.judge import Finding, judge
from lemma.teacher.oracle.model import StructureError, WorldModel
from lemma.text.vocabulary import NOT_WRONG

log = logging.getLogger(__name__)

# When the natural type of an error is not in the configured taxonomy, the closest ones that may be.
FALLBACK = {
    "counting_error": ("calculation_error",),
    "unit_conversion_error": ("context_value_error", "calculation_error"),
    "contradictory_step": ("context_value_error", "hallucination"),
    "hallucination": ("context_value_error",),
    "formula_confusion_error": ("confusing_concept_error", "operator_error"),
    "confusing_concept_error": ("formula_confusion_error", "question_misinterpretation"),
    "missing_step": ("question_misinterpretation",),
    "operator_error": ("calculation_error",),
    "question_misinterpretation": ("confusing_concept_error",),
    "context_value_error": ("hallucination",),
}


@lru_cache(maxsize=4096)
def _model(structure: str) -> WorldModel:
    return WorldModel(structure)


def _first_error(world: WorldModel, solution: str) -> Finding | str:
    """What both judges read: the solution's first wrong step, or why there is none to report."""
    if not solution.strip():
        return "empty_solution"
    f = judge(world, solution)
    return NOT_WRONG if f is None else f


class OracleTeacher(Teacher):
    name = "oracle"

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed

    @staticmethod
    def supported_types() -> tuple[str, ...]:
        """Error types inject_errors can produce (where a problem has a site for them)."""
        return oracle_inject.SUPPORTED

    # -- helpers ---------------------------------------------------------------------------------
    def _world(self, problem: ProblemView) -> WorldModel | str:
        """The problem's model, or a drop reason."""
        if problem.structure is None:
            return "no_structure"
        try:
            return _model(problem.structure)
        except StructureError as e:
            log.warning("problem %s: unusable structure: %s", problem.id, e)
            return "bad_structure"

    def _each(self, requests, fn, empty):
        """fn(request, model) for each request; a drop reason or an unexpected error becomes
        empty(reason) so one bad row never stops a batch."""
        out = []
        for req in requests:
            world = self._world(req.problem)
            if isinstance(world, str):
                out.append(empty(world))
                continue
            try:
                out.append(fn(req, world))
            except Exception as e:  # noqa: BLE001 - a bad row must not stop the batch; logged with traceback
                log.exception("oracle failed on problem %s", req.problem.id)
                out.append(empty(f"oracle_error:{type(e).__name__}"))
        return out

    # -- judges ----------------------------------------------------------------------------------
    def locate_errors(self, requests: list[LocateRequest]) -> list[StepLabel]:
        def one(req: LocateRequest, world: WorldModel) -> StepLabel:
            f = _first_error(world, req.solution)
            if isinstance(f, str):
                return StepLabel(None, dropped=f)
            return StepLabel(f.step, f.rationale)

        return self._each(requests, one, lambda r: StepLabel(None, dropped=r))

    def classify_errors(self, requests: list[ClassifyRequest], taxonomy: list[TypeSpec]) -> list[TypeLabel]:
        names = [t.name for t in taxonomy]

        def one(req: ClassifyRequest, world: WorldModel) -> TypeLabel:
            f = _first_error(world, req.solution)
            if isinstance(f, str):
                return TypeLabel(None, dropped=f)
            for kind in (f.type,) + FALLBACK.get(f.type, ()):
                if kind in names:
                    why = f.rationale if kind == f.type else f"{f.rationale} (closest type in the taxonomy to {f.type})"
                    return TypeLabel(kind, why)
            return TypeLabel(None, f.rationale, dropped=f"type_not_in_taxonomy:{f.type}")

        return self._each(requests, one, lambda r: TypeLabel(None, dropped=r))

    # -- injection -------------------------------------------------------------------------------
    def inject_errors(self, requests: list[InjectRequest]) -> list[Mistake]:
        def one(req: InjectRequest, world: WorldModel) -> Mistake:
            kind = req.error_type.name
            if kind not in oracle_inject.SUPPORTED:
                log.info("problem %s: the oracle cannot inject %s", req.problem.id, kind)
                return Mistake(None, dropped=f"type_unsupported:{kind}")
            opts = oracle_inject.options(world, kind)
            random.Random(f"{self.seed}|{req.problem.id}|{kind}").shuffle(opts)
            if req.sample_index >= len(opts):
                log.info(
                    "problem %s: %d distinct site(s) for %s, sample %d asked",
                    req.problem.id,
                    len(opts),
                    kind,
                    req.sample_index,
                )
                return Mistake(None, dropped=f"no_site:{kind}")
            o = opts[req.sample_index]
            return Mistake(o.solution, o.wrong_step, o.explanation)

        return self._each(requests, one, lambda r: Mistake(None, dropped=r))

    # -- corrections -----------------------------------------------------------------------------
    def fix_continue(self, requests: list[CorrectRequest]) -> list[Text]:
        def one(req: CorrectRequest, world: WorldModel) -> Text:
            if req.wrong_step < 1:
                return Text(None, dropped="bad_wrong_step")
            return Text(oracle_write.fix_continue(world, req.prefix, req.wrong_step))

        return self._each(requests, one, lambda r: Text(None, dropped=r))

    def fresh_restart(self, requests: list[CorrectRequest]) -> list[Text]:
        def one(req: CorrectRequest, world: WorldModel) -> Text:
            text, source = oracle_write.fresh_restart(world, req.correct_sample, req.sample_index)
            return Text(text, meta={"source": source})

        return self._each(requests, one, lambda r: Text(None, dropped=r))

    def smooth(self, requests: list[SmoothRequest]) -> list[Text]:
        def one(req: SmoothRequest, world: WorldModel) -> Text:
            if not req.trajectory.strip():
                return Text(None, dropped="empty_trajectory")
            try:
                return Text(oracle_write.smooth(world, req.trajectory))
            except ValueError:
                return Text(None, dropped="no_answer")

        return self._each(requests, one, lambda r: Text(None, dropped=r))
