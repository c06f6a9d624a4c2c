"""k-shot prompts for benchmarks evaluated with exemplars.

The paper evaluates ASDiv, MAWPS and SVAMP 4-shot and the other benchmarks zero-shot
(`PAPER_SHOTS`). Exemplars are (question, solution) pairs written in the student's own prompt
template (lemma.text.prompting), each solution ending "The answer is: N" like every trained solution,
so a k-shot prompt is k solved problems followed by the unsolved one. The exemplars below are
our own simple problems, one set of four per benchmark family.
"""

from __future__ import annotations

from lemma.text.prompting import TEMPLATES, PromptFormat

# Benchmarks the paper prompts with four exemplars; every other benchmark is zero-shot.
PAPER_SHOTS = {"asdiv": 4, "mawps": 4, "svamp": 4}

SEPARATOR = "\n\n"  # between one solved exemplar and the next prompt

_WORD_PROBLEMS = [
    {
        "question": "Nina has 8 pencils. She buys 5 more pencils. How many pencils does she have now?",
        "solution": "Nina starts with 8 pencils and buys 5 more, so she has 8 + 5 = 13 pencils.\nThe answer is: 13",
    },
    {
        "question": "A baker made 24 rolls and sold 9 of them. How many rolls are left?",
        "solution": "The baker sold 9 of the 24 rolls, so 24 - 9 = 15 rolls are left.\nThe answer is: 15",
    },
    {
        "question": "Each bag holds 6 oranges. How many oranges are in 7 bags?",
        "solution": "Seven bags of 6 oranges hold 7 * 6 = 42 oranges.\nThe answer is: 42",
    },
    {
        "question": "Omar shares 36 stickers equally among 4 friends. How many stickers does each friend get?",
        "solution": "Sharing 36 stickers among 4 friends gives each 36 / 4 = 9 stickers.\nThe answer is: 9",
    },
]

DEFAULT_SHOTS: dict[str, list[dict]] = {
    # ASDiv: varied one- and two-step problems
    "asdiv": [
        _WORD_PROBLEMS[0],
        {
            "question": "A shelf has 3 rows of 12 books. Sam takes 5 books away. How many books are on the shelf now?",
            "solution": "The shelf holds 3 * 12 = 36 books.\nAfter Sam takes 5, there are 36 - 5 = 31 books.\nThe answer is: 31",
        },
        _WORD_PROBLEMS[3],
        {
            "question": "Lily read 14 pages on Monday and twice as many on Tuesday. How many pages did she read in the two days?",
            "solution": "On Tuesday she read 2 * 14 = 28 pages.\nIn both days she read 14 + 28 = 42 pages.\nThe answer is: 42",
        },
    ],
    # MAWPS: short single-operation problems
    "mawps": list(_WORD_PROBLEMS),
    # SVAMP: the question often asks for a quantity other than the obvious one
    "svamp": [
        {
            "question": "Some birds were on a tree. 7 more birds came and now there are 19 birds. How many birds were on the tree at first?",
            "solution": "Before the 7 birds came there were 19 - 7 = 12 birds.\nThe answer is: 12",
        },
        {
            "question": "Tom had 30 marbles. He gave some to Ann and has 18 left. How many marbles did he give to Ann?",
            "solution": "Tom gave away 30 - 18 = 12 marbles.\nThe answer is: 12",
        },
        {
            "question": "A box has 5 red balls and 9 blue balls. How many more blue balls than red balls are there?",
            "solution": "There are 9 - 5 = 4 more blue balls than red ones.\nThe answer is: 4",
        },
        {
            "question": "Every day Jo walks 3 km. How many km does she walk in 6 days?",
            "solution": "In 6 days she walks 6 * 3 = 18 km.\nThe answer is: 18",
        },
    ],
    # GSM8K-style multi-step problems
    "gsm8k": [
        {
            "question": "A shop sells pens at 3 dollars each. Ben buys 4 pens and pays with a 20 dollar note. How much change does he get?",
            "solution": "The pens cost 4 * 3 = 12 dollars.\nHis change is 20 - 12 = 8 dollars.\nThe answer is: 8",
        },
        {
            "question": "A garden has 5 rows of 8 tulips. Half of the tulips are red. How many tulips are red?",
            "solution": "The garden has 5 * 8 = 40 tulips.\nHalf of them is 40 / 2 = 20 tulips.\nThe answer is: 20",
        },
        {
            "question": "Kim saves 15 dollars a week for 6 weeks, then spends 35 dollars. How much does she have left?",
            "solution": "She saves 15 * 6 = 90 dollars.\nAfter spending she has 90 - 35 = 55 dollars.\nThe answer is: 55",
        },
        {
            "question": "A bus carries 42 people. At a stop 13 get off and 8 get on. How many people are on the bus now?",
            "solution": "After 13 get off there are 42 - 13 = 29 people.\nAfter 8 get on there are 29 + 8 = 37 people.\nThe answer is: 37",
        },
    ],
    # MATH-style short exercises
    "math": [
        {
            "question": "What is $2^5 - 3^2$?",
            "solution": "We have $2^5 = 32$ and $3^2 = 9$.\nSo $32 - 9 = 23$.\nThe answer is: 23",
        },
        {
            "question": "Solve for $x$: $5x - 7 = 18$.",
            "solution": "Adding 7 to both sides gives $5x = 18 + 7 = 25$.\nDividing by 5 gives $x = 25 / 5 = 5$.\nThe answer is: 5",
        },
        {
            "question": "What is the sum of the interior angles of a pentagon, in degrees?",
            "solution": "A polygon with $n$ sides has interior angles summing to $(n - 2) \\cdot 180$.\nFor $n = 5$ this is $3 \\cdot 180 = 540$.\nThe answer is: 540",
        },
        {
            "question": "What is the greatest common divisor of 36 and 60?",
            "solution": "We have $36 = 2^2 \\cdot 3^2$ and $60 = 2^2 \\cdot 3 \\cdot 5$.\nThe common part is $2^2 \\cdot 3$, which is $4 \\cdot 3 = 12$.\nThe answer is: 12",
        },
    ],
}

# Which exemplar family each loader format uses (lemma.data.loaders.FORMATS).
FAMILY_OF_FORMAT = {
    "gsm8k": "gsm8k",
    "asdiv": "asdiv",
    "mawps": "mawps",
    "svamp": "svamp",
    "math": "math",
    "math500": "math",
    "college_math": "math",
    "deepmind_mathematics": "math",
}


def default_shots(format: str, k: int = 4) -> list[dict]:
    """The first `k` of our exemplars for a benchmark of this loader format."""
    family = FAMILY_OF_FORMAT.get(format, format)
    if family not in DEFAULT_SHOTS:
        raise ValueError(f"no default exemplars for {format!r}; expected one of {sorted(FAMILY_OF_FORMAT)}")
    shots = DEFAULT_SHOTS[family]
    if not 0 <= k <= len(shots):
        raise ValueError(f"{k} shots asked for {format!r}; there are {len(shots)} default exemplars")
    return shots[:k]


def fewshot_prompt(question: str, shots: list[dict], template: str | PromptFormat = "world") -> str:
    """`shots` solved in the student template, then `question` to be solved. No shots gives the
    plain zero-shot prompt. For `chat` the exemplars are earlier turns of the conversation."""
    return PromptFormat.of(template).fewshot(question, shots, SEPARATOR)


def fewshot_stops(template: str | PromptFormat = "world") -> tuple[str, ...]:
    """Stop strings for a k-shot prompt: the template's own, plus the start of a new exemplar (a
    model that has seen exemplars tends to go on writing the next one)."""
    fmt = PromptFormat.of(template)
    stops = fmt.stops
    if fmt.template == "chat":  # a new exemplar is a new user turn: already a stop
        return stops
    opening = TEMPLATES[fmt.template].split("{question}")[0].strip().split("\n")[0]
    new = SEPARATOR + opening
    # an existing stop inside the new one fires first anyway (world: "\nQuestion:")
    if not opening or any(stop in new for stop in stops):
        return stops
    return stops + (new,)
