"""The LLM teacher: every Teacher job as a prompt to an engine, and a parser for the reply.

Each method renders one prompt per item (lemma.teacher.prompts), sends the whole batch through
`engine.generate` (so an API engine runs the items concurrently and a local engine batches them),
and parses each reply (lemma.teacher.parse_verdicts, lemma.teacher.parse_writing). An item whose request failed, whose reply was cut by
the token limit, or whose reply cannot be parsed comes back with `dropped="<stage>:<reason>"`
(stages: locate, classify, inject, fix_continue, fresh_restart, smooth), never as an exception.

Several samples of one prompt (inject_errors' `sample_index`, correction samples) are separate
requests with n=1, each seeded by its index (`row_seed`): one completion is paid per row that needs
one, sample 2 is the same answer in every run, and a rerun is answered by the request cache.

Judges may answer that a solution is correct (the grader can be wrong): such a sample comes back
dropped as "<stage>:judged_correct", its own reason, never forced into a wrong step or a type.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from lemma.engines.base import Completion, Engine, Request, SamplingParams
from lemma.engines.cache import CachedEngine, RequestCache
from lemma.teacher.base import (
    ClassifyRequest,
    CorrectRequest,
    InjectRequest,
    LocateRequest,
    Mistake,
    SmoothRequest,
    StepLabel,
    Teacher,
    Text,
    TypeLabel,
    TypeSpec,
)
from lemma.teacher.parse_verdicts import CORRECT, parse_error_type, parse_step
from lemma.teacher.parse_writing import parse_continuation, parse_injection, parse_smoothed
from lemma.teacher.prompts import PromptSet
from lemma.text.steps import number_steps, split_steps
from lemma.text.vocabulary import FIX_CONTINUE, FRESH_RESTART, JUDGED_CORRECT

log = logging.getLogger("lemma.teacher.llm")


def row_seed(seed: int, sample_index: int) -> int:
    """The seed of sample `sample_index` of one prompt: `seed` for sample 0, distinct for the
    others (the same spacing as lemma.engines.openai_engine.sample_seed, so a server that honours
    seeds gives each sample the answer it gave before this change)."""
    return (seed + 7919 * sample_index) % (2**31)


# How a generated solution should be laid out so lemma.text.steps splits it like the problem's style.
LAYOUT = {
    "world": "Write one step per line, like the correct solution.",
    "gsm8k": "Write short sentences, each ending with a period, like the correct solution.",
    "math": "Keep the layout of the correct solution: each step ends with a period and a line break.",
}


def _readable(name: str | None) -> str:
    return name.replace("_", " ") if name else "the kind of mistake is not known"


# How prompts reach the model: chat messages (instruction-tuned models), or one text to continue
# (base models, which ignore chat turns: Gemma 3 270M continues a completion prompt instead).
PROMPT_FORMS = ("chat", "completion")


def completion_prompt(messages: tuple[dict, ...]) -> str:
    """The prompt's messages as one text for a base model: the system text, the user text, then a
    blank line where the model's answer starts."""
    return "\n\n".join(m["content"].strip() for m in messages) + "\n\n"


class LLMTeacher(Teacher):
    name = "llm"

    def __init__(
        self,
        engine: Engine,
        prompts: PromptSet,
        params: SamplingParams,
        cache: RequestCache | None = None,
        prompt_form: str = "chat",
    ):
        """`cache` is the shared request cache. An engine that caches by itself (the openai engine
        stores each answer as it arrives) is handed the cache at construction; any other engine is
        wrapped here so its answers are cached at the end of each batch."""
        if cache is not None and not getattr(engine, "caches_requests", False):
            engine = CachedEngine(engine, cache)
        self.engine = engine
        self.prompts = prompts
        self.params = replace(params, n=1)
        self.cache = cache
        if prompt_form not in PROMPT_FORMS:
            raise ValueError(f"prompt_form {prompt_form!r}; expected one of {PROMPT_FORMS}")
        self.prompt_form = prompt_form

    # -- plumbing ------------------------------------------------------------------------------
    def _ask(self, stage: str, items: list[tuple[tuple[dict, ...], int]]) -> list[Completion]:
        """Exactly one completion per distinct (messages, sample_index) item.

        Sample k of a prompt is its own request with n=1 and the seed `row_seed(seed, k)`, so it is
        paid once, is the same answer in every run whichever other samples are asked for, and has
        its own request-cache entry (the seed is part of the key): a rerun sends nothing. (The
        openai engine sends sample 0 of a request with the request's own seed, so sample k goes
        out with the seed it always had.) Items asking for the same prompt and index share one
        answer."""
        requests: dict[tuple, Request] = {}
        keys = []
        for messages, index in items:
            key = (tuple(tuple(sorted(m.items())) for m in messages), index)
            if key not in requests:
                params = replace(self.params, n=1, seed=row_seed(self.params.seed, index))
                if self.prompt_form == "completion":
                    requests[key] = Request(prompt=completion_prompt(messages), params=params)
                else:
                    requests[key] = Request(messages=messages, params=params)
            keys.append(key)
        order = list(requests)
        answers = self.engine.generate([requests[k] for k in order], progress=stage) if order else []
        by_key = {k: a[0] for k, a in zip(order, answers)}
        return [by_key[k] for k in keys]

    @staticmethod
    def _failed(stage: str, comp: Completion) -> str | None:
        if comp.text is None:
            code = (comp.error or "no_text").split(" ", 1)[0]
            return f"{stage}:request_failed:{code}"
        return None

    # -- judges --------------------------------------------------------------------------------
    def locate_errors(self, requests: list[LocateRequest]) -> list[StepLabel]:
        out: list[StepLabel | None] = [None] * len(requests)
        asks, where = [], []
        for i, r in enumerate(requests):
            steps = split_steps(r.solution, r.problem.style)
            if not steps:
                out[i] = StepLabel(None, dropped="locate:empty_solution")
                continue
            numbered = number_steps(r.solution, r.problem.style)
            asks.append(
                (
                    self.prompts["judge_step"].render(
                        question=r.problem.question,
                        reference_solution=r.problem.solution,
                        reference_answer=r.problem.answer,
                        numbered_solution=numbered,
                        n_steps=len(steps),
                    ),
                    0,
                )
            )
            where.append((i, len(steps), numbered))
        for (i, n, numbered), comp in zip(where, self._ask("locate", asks)):
            failed = self._failed("locate", comp)
            if failed:
                out[i] = StepLabel(None, rationale=comp.error or "", dropped=failed)
                continue
            p = parse_step(comp.text, n, shown=numbered)
            if p.value == CORRECT:
                out[i] = StepLabel(None, rationale=comp.text.strip(), dropped=f"locate:{JUDGED_CORRECT}")
            elif p.reason:
                reason = "truncated" if comp.finish_reason == "length" else p.reason
                out[i] = StepLabel(None, rationale=p.note or comp.text[-300:], dropped=f"locate:{reason}")
            else:
                out[i] = StepLabel(p.value, rationale=comp.text.strip())
        return out  # type: ignore[return-value]

    def classify_errors(self, requests: list[ClassifyRequest], taxonomy: list[TypeSpec]) -> list[TypeLabel]:
        if not taxonomy:
            raise ValueError("classify_errors needs a non-empty taxonomy")
        labels = "\n".join(
            f"- {t.name}" + (f" ({t.code})" if t.code else "") + f": {t.definition.strip()}" for t in taxonomy
        )
        label_names = ", ".join(t.name for t in taxonomy)
        asks, shown = [], []
        for r in requests:
            shown.append(number_steps(r.solution, r.problem.style))
            hint = (
                f"\nA first check suggests the first mistake is in step {r.first_wrong_step}.\n"
                if r.first_wrong_step
                else ""
            )
            asks.append(
                (
                    self.prompts["judge_type"].render(
                        question=r.problem.question,
                        reference_solution=r.problem.solution,
                        reference_answer=r.problem.answer,
                        numbered_solution=shown[-1],
                        labels=labels,
                        label_names=label_names,
                        step_hint=hint,
                    ),
                    0,
                )
            )
        out = []
        for numbered, comp in zip(shown, self._ask("classify", asks)):
            failed = self._failed("classify", comp)
            if failed:
                out.append(TypeLabel(None, rationale=comp.error or "", dropped=failed))
                continue
            p = parse_error_type(comp.text, taxonomy, shown=numbered)
            if p.value == CORRECT:
                out.append(TypeLabel(None, rationale=comp.text.strip(), dropped=f"classify:{JUDGED_CORRECT}"))
            elif p.reason:
                reason = "truncated" if comp.finish_reason == "length" else p.reason
                out.append(TypeLabel(None, rationale=p.note or comp.text[-300:], dropped=f"classify:{reason}"))
            else:
                out.append(TypeLabel(p.value, rationale=comp.text.strip()))
        return out

    # -- generation ----------------------------------------------------------------------------
    def inject_errors(self, requests: list[InjectRequest]) -> list[Mistake]:
        asks = []
        for r in requests:
            t = r.error_type
            examples = "\n".join(f"- {e}" for e in t.examples) or "- (no examples given)"
            asks.append(
                (
                    self.prompts["inject"].render(
                        type_name=_readable(t.name),
                        type_definition=t.definition.strip(),
                        type_examples=examples,
                        question=r.problem.question,
                        reference_solution=r.problem.solution,
                        reference_answer=r.problem.answer,
                        layout=LAYOUT.get(r.problem.style, LAYOUT["world"]),
                    ),
                    r.sample_index,
                )
            )
        out = []
        for r, comp in zip(requests, self._ask("inject", asks)):
            failed = self._failed("inject", comp) or ("inject:truncated" if comp.finish_reason == "length" else None)
            if failed:
                out.append(Mistake(None, explanation=comp.error or "", dropped=failed))
                continue
            p = parse_injection(comp.text, r.problem.answer, r.problem.style)
            if p.reason:
                out.append(Mistake(None, explanation=p.note or p.explanation, dropped=f"inject:{p.reason}"))
            else:
                out.append(Mistake(p.solution, p.wrong_step, p.explanation))
        return out

    def _correct(self, stage: str, requests: list[CorrectRequest]) -> list[Text]:
        out: list[Text | None] = [None] * len(requests)
        asks, where = [], []
        for i, r in enumerate(requests):
            steps = split_steps(r.prefix, r.problem.style)
            if not 1 <= r.wrong_step <= len(steps):
                out[i] = Text(
                    None,
                    dropped=f"{stage}:wrong_step_out_of_range",
                    meta={"note": f"step {r.wrong_step} of {len(steps)}"},
                )
                continue
            values = dict(
                question=r.problem.question,
                reference_solution=r.problem.solution,
                reference_answer=r.problem.answer,
                numbered_attempt=number_steps(r.prefix, r.problem.style),
                wrong_step=r.wrong_step,
                wrong_step_text=steps[r.wrong_step - 1],
                error_type=_readable(r.error_type),
                phrase=r.phrase.strip(),
            )
            if stage == FRESH_RESTART:
                if r.correct_sample:
                    values.update(guide_solution=r.correct_sample, guide_kind="Another correct solution")
                else:
                    values.update(guide_solution=r.problem.solution, guide_kind="A correct solution")
            asks.append((self.prompts[stage].render(**values), r.sample_index))
            where.append(i)
        for i, comp in zip(where, self._ask(stage, asks)):
            failed = self._failed(stage, comp) or (f"{stage}:truncated" if comp.finish_reason == "length" else None)
            if failed:
                out[i] = Text(None, dropped=failed, meta={"error": comp.error or ""})
                continue
            r = requests[i]
            p = parse_continuation(comp.text, r.phrase, r.prefix, r.problem.style)
            if p.reason:
                out[i] = Text(None, dropped=f"{stage}:{p.reason}", meta={"note": p.note})
            else:
                out[i] = Text(p.value, meta={"finish_reason": comp.finish_reason})
        return out  # type: ignore[return-value]

    def fix_continue(self, requests: list[CorrectRequest]) -> list[Text]:
        return self._correct(FIX_CONTINUE, requests)

    def fresh_restart(self, requests: list[CorrectRequest]) -> list[Text]:
        return self._correct(FRESH_RESTART, requests)

    def smooth(self, requests: list[SmoothRequest]) -> list[Text]:
        asks = [
            (self.prompts["smooth"].render(question=r.problem.question, trajectory=r.trajectory), r.sample_index)
            for r in requests
        ]
        out = []
        for comp in self._ask("smooth", asks):
            failed = self._failed("smooth", comp) or ("smooth:truncated" if comp.finish_reason == "length" else None)
            if failed:
                out.append(Text(None, dropped=failed, meta={"error": comp.error or ""}))
                continue
            p = parse_smoothed(comp.text)
            if p.reason:
                out.append(Text(None, dropped=f"smooth:{p.reason}", meta={"note": p.note}))
            else:
                out.append(Text(p.value, meta={"finish_reason": comp.finish_reason}))
        return out

    def close(self) -> None:
        self.engine.close()
        if self.cache is not None:
            log.info("request cache %s: %d hits, %d misses", self.cache.path, self.cache.hits, self.cache.misses)
            self.cache.close()
