"""The teacher interface: every stage that needs a teacher talks to this and nothing else.

A teacher does five jobs of the LEMMA method (arXiv 2503.17439, section 3):
  * locate_errors:  the first wrong step of a wrong solution (the "error-step judge");
  * classify_errors: the error type of a wrong solution, given the taxonomy (the "error-type judge");
  * inject_errors:  write a new wrong solution carrying an error of one requested type;
  * fix_continue / fresh_restart: write what follows the reflection phrase after a truncated
    wrong attempt (the pipeline joins prefix + phrase + continuation itself, so the wrong prefix
    is exactly the attempt, never re-typed by a teacher);
  * smooth: rewrite a joined trajectory so it reads as one model's own reflection.

Every method is batched (a list in, a list of the same length out) so LLM teachers can run
requests concurrently. A request a teacher cannot serve is not an exception: its result carries
`dropped` with a short machine-readable reason ("unparseable_type", "type_unsupported:...", ...),
which the stages count per reason.

Steps are 1-based and refer to `lemma.text.steps.split_steps(text, style)` of the solution text.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ProblemView:
    """What a teacher may know of a problem. `structure` is the built-in world's JSON description
    of the problem (None for real datasets); only the oracle reads it."""

    id: str
    question: str
    solution: str  # the reference solution
    answer: str  # the reference final answer
    structure: str | None = None
    style: str = "world"  # step-splitting style: "world" | "gsm8k" | "math"


@dataclass(frozen=True)
class TypeSpec:
    """One entry of config/taxonomy.yaml."""

    name: str
    definition: str
    examples: tuple[str, ...] = ()
    code: str = ""

    @classmethod
    def from_dict(cls, d: dict) -> TypeSpec:
        """From a taxonomy entry as plain data (how rules pass it in params)."""
        return cls(d["name"], d["definition"], tuple(d.get("examples", ())), d.get("code", ""))

    def as_dict(self) -> dict:
        return {"name": self.name, "code": self.code, "definition": self.definition, "examples": list(self.examples)}


@dataclass(frozen=True)
class LocateRequest:
    problem: ProblemView
    solution: str  # a wrong solution


@dataclass(frozen=True)
class StepLabel:
    first_wrong_step: int | None  # 1-based; None when dropped
    rationale: str = ""
    dropped: str | None = None


@dataclass(frozen=True)
class ClassifyRequest:
    problem: ProblemView
    solution: str  # a wrong solution
    first_wrong_step: int | None = None  # when known, a hint for the judge


@dataclass(frozen=True)
class TypeLabel:
    error_type: str | None  # a taxonomy name; None when dropped
    rationale: str = ""
    dropped: str | None = None


@dataclass(frozen=True)
class InjectRequest:
    problem: ProblemView
    error_type: TypeSpec
    sample_index: int  # 0..k-1: several injections of one type into one problem differ by this


@dataclass(frozen=True)
class Mistake:
    solution: str | None  # the whole wrong solution, ending "The answer is: X"
    wrong_step: int | None = None  # where the teacher says it put the error (1-based), if known
    explanation: str = ""
    dropped: str | None = None


@dataclass(frozen=True)
class CorrectRequest:
    problem: ProblemView
    prefix: str  # the wrong attempt, truncated after its first wrong step (or whole)
    wrong_step: int  # 1-based index of the first wrong step inside `prefix`
    error_type: str | None  # known type of the error, if any
    phrase: str  # the reflection phrase that will join prefix and continuation
    correct_sample: str | None = None  # a correct student solution (Fresh & Restart uses it)
    sample_index: int = 0


@dataclass(frozen=True)
class SmoothRequest:
    problem: ProblemView
    trajectory: str  # prefix + phrase + continuation, joined by lemma.text.reflection.join_trajectory
    sample_index: int = 0


@dataclass(frozen=True)
class Text:
    """A teacher's text answer: a continuation or a smoothed trajectory."""

    text: str | None
    dropped: str | None = None
    meta: dict = field(default_factory=dict)


class Teacher(ABC):
    """Implemented by lemma.teacher.oracle.OracleTeacher and lemma.teacher.llm.LLMTeacher."""

    name: str = "teacher"

    @abstractmethod
    def locate_errors(self, requests: list[LocateRequest]) -> list[StepLabel]: ...

    @abstractmethod
    def classify_errors(self, requests: list[ClassifyRequest], taxonomy: list[TypeSpec]) -> list[TypeLabel]: ...

    @abstractmethod
    def inject_errors(self, requests: list[InjectRequest]) -> list[Mistake]: ...

    @abstractmethod
    def fix_continue(self, requests: list[CorrectRequest]) -> list[Text]: ...

    @abstractmethod
    def fresh_restart(self, requests: list[CorrectRequest]) -> list[Text]: ...

    @abstractmethod
    def smooth(self, requests: list[SmoothRequest]) -> list[Text]: ...

    def close(self) -> None:
        """Release engines, flush caches and usage tables."""
