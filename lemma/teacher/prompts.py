"""Loading and rendering the LLM teacher's prompt files (<name>.md in teacher.prompts_dir; by default
the copies shipped inside the package, lemma/prompts/).

A prompt file is Markdown with two level-2 sections, `## system` and `## user`; everything before
the first of them (typically an HTML comment documenting the prompt) is not sent. Placeholders are
`{{name}}`; literal braces (LaTeX) need no escaping. Each prompt has a fixed set of placeholders it
may use and a few it must use (PROMPTS below); a file that uses an unknown one, lacks a required
one or lacks a section is refused at load time, naming the file, so a typo never reaches a paid
request. The rendered messages are part of the request-cache key: editing one prompt file makes
only that prompt's requests new.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from lemma.text.vocabulary import FIX_CONTINUE, FRESH_RESTART

_COMMON = {"question", "reference_solution", "reference_answer"}
_CORRECT = _COMMON | {"numbered_attempt", "wrong_step", "wrong_step_text", "error_type", "phrase"}

# The prompts used when a config sets no teacher.prompts_dir. They ship inside the package (package
# data), so an installed lemma needs no checkout; to edit them, copy this directory and point
# teacher.prompts_dir at the copy.
PACKAGED_PROMPTS: Traversable = resources.files("lemma") / "prompts"

# prompt name -> (placeholders it may use, placeholders it must use)
PROMPTS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "judge_type": (
        frozenset(_COMMON | {"numbered_solution", "labels", "label_names", "step_hint"}),
        frozenset({"question", "numbered_solution", "labels"}),
    ),
    "judge_step": (frozenset(_COMMON | {"numbered_solution", "n_steps"}), frozenset({"question", "numbered_solution"})),
    "inject": (
        frozenset(_COMMON | {"type_name", "type_definition", "type_examples", "layout"}),
        frozenset({"question", "reference_solution", "type_name", "type_definition"}),
    ),
    FIX_CONTINUE: (frozenset(_CORRECT), frozenset({"question", "numbered_attempt", "phrase"})),
    FRESH_RESTART: (
        frozenset(_CORRECT | {"guide_solution", "guide_kind"}),
        frozenset({"question", "numbered_attempt", "phrase", "guide_solution"}),
    ),
    # The paper's smoothing teacher never sees the reference answer: a rewrite that erased the
    # correction cannot then pass the final filter by copying it.
    "smooth": (frozenset({"question", "trajectory"}), frozenset({"trajectory"})),
}

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_SECTION = re.compile(r"^##[ \t]+(system|user)[ \t]*$", re.MULTILINE | re.IGNORECASE)


class PromptError(ValueError):
    pass


@dataclass(frozen=True)
class PromptTemplate:
    name: str
    system: str
    user: str
    path: str = ""

    def placeholders(self) -> set[str]:
        return set(_PLACEHOLDER.findall(self.system)) | set(_PLACEHOLDER.findall(self.user))

    def render(self, **values) -> tuple[dict, ...]:
        """The chat messages with every placeholder filled; a missing value is an error."""

        def fill(text: str) -> str:
            def sub(m: re.Match) -> str:
                key = m.group(1)
                if key not in values:
                    raise PromptError(f"prompt {self.name!r} ({self.path}): no value for {{{{{key}}}}}")
                return str(values[key])

            return _PLACEHOLDER.sub(sub, text)

        msgs = []
        if self.system:
            msgs.append({"role": "system", "content": fill(self.system)})
        msgs.append({"role": "user", "content": fill(self.user)})
        return tuple(msgs)

    def fingerprint(self) -> str:
        """A short hash of the prompt text, e.g. for a Snakemake `params:` so a rule reruns when
        its prompt file changes."""
        return hashlib.sha256(f"{self.system}\x00{self.user}".encode()).hexdigest()[:16]


def parse_prompt_file(name: str, text: str, path: str = "") -> PromptTemplate:
    where = path or name
    parts = _SECTION.split(text)
    # parts: [preamble, "system", body, "user", body, ...]
    sections: dict[str, str] = {}
    for label, body in zip(parts[1::2], parts[2::2]):
        label = label.lower()
        if label in sections:
            raise PromptError(f"{where}: section '## {label}' appears twice")
        sections[label] = body.strip()
    if "user" not in sections or not sections["user"]:
        raise PromptError(f"{where}: expected a '## user' section with the prompt text (and optionally '## system')")
    tpl = PromptTemplate(name, sections.get("system", ""), sections["user"], where)
    if name in PROMPTS:
        allowed, required = PROMPTS[name]
        used = tpl.placeholders()
        unknown = used - allowed
        if unknown:
            raise PromptError(
                f"{where}: unknown placeholder(s) {sorted(unknown)}; prompt {name!r} may use {sorted(allowed)}"
            )
        missing = required - used
        if missing:
            raise PromptError(f"{where}: prompt {name!r} must use placeholder(s) {sorted(missing)}")
    return tpl


@dataclass(frozen=True)
class PromptSet:
    templates: dict

    @classmethod
    def load(cls, directory: str | Path | None = None) -> PromptSet:
        """The prompts in `directory`; None: the packaged ones (PACKAGED_PROMPTS)."""
        d = PACKAGED_PROMPTS if directory is None else Path(directory)
        if not d.is_dir():
            raise PromptError(f"prompts directory {str(d)!r} does not exist (teacher.prompts_dir)")
        templates, missing = {}, []
        for name in PROMPTS:
            path = d / f"{name}.md"
            if not path.is_file():
                missing.append(path.name)
                continue
            templates[name] = parse_prompt_file(name, path.read_text(encoding="utf-8"), str(path))
        if missing:
            raise PromptError(
                f"prompts directory {str(d)!r} lacks {missing}; expected one file per prompt: "
                f"{[n + '.md' for n in PROMPTS]}"
            )
        return cls(templates)

    def __getitem__(self, name: str) -> PromptTemplate:
        return self.templates[name]

    def fingerprints(self) -> dict[str, str]:
        return {n: t.fingerprint() for n, t in self.templates.items()}
