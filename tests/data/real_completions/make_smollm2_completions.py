"""Capture raw completions of a real pretrained LLM (SmolLM2-135M-Instruct) for the stop/cut tests.

The completions are generated WITHOUT stop strings, so the fixture keeps whatever a real model
writes after its answer (a new "### Response:", an invented next problem, a chat turn marker):
tests/test_prompt_junk.py checks that lemma.text.prompting's stop strings and header cut remove that
junk from text nobody in this project wrote. Run once (CPU, a few minutes):

    nice -n 10 python tests/data/real_completions/make_smollm2_completions.py \
        /path/to/smollm2-135m-instruct tests/data/real_completions/smollm2.jsonl

The model directory is SmolLM2-135M-Instruct converted to HF format (docs: real-llm-on-cpu).
"""

import json
import sys

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

ALPACA = (
    "Below is an instruction that describes a task. "
    "Write a response that appropriately completes the request.\n\n"
    "### Instruction:\n{question}\n\n### Response: Let's think step by step.\n"
)

# GSM8K-style questions written for this fixture (our own words).
QUESTIONS = [
    "Tom reads 12 pages every day. How many pages does he read in 3 weeks?",
    "A farmer has 48 apples and packs them into bags of 6. He sells 5 bags. How many bags are left?",
    "Sara buys 3 notebooks at $4 each and a pen for $2. She pays with a $20 bill. How much change does she get?",
    "A train travels 60 miles per hour for 2.5 hours. How far does it travel?",
    "There are 25 students in a class. 40% of them are boys. How many girls are in the class?",
    "Liam saves $15 a week. How many weeks does he need to save $180?",
    "A rectangle is 8 meters long and 5 meters wide. What is its perimeter?",
    "Maria had 90 stickers. She gave a third of them to her brother and 12 to her friend. How many stickers does she have left?",
    "A bakery sells 36 muffins in the morning and twice as many in the afternoon. How many muffins does it sell in total?",
    "Ben is 4 years older than Ann. Ann is 9. How old will Ben be in 5 years?",
    "A box holds 24 crayons. A teacher buys 7 boxes and gives out 100 crayons. How many crayons are left?",
    "Each ticket costs $8. A family of 5 buys tickets and pays $10 for snacks. How much do they spend?",
]


def main(model_dir: str, out_path: str, max_new_tokens: int = 200, seed: int = 11) -> None:
    torch.set_num_threads(2)
    tok = AutoTokenizer.from_pretrained(model_dir)
    tok.padding_side = "left"
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    rows = []
    for template in ("alpaca", "chat"):
        if template == "alpaca":
            prompts = [ALPACA.format(question=q) for q in QUESTIONS]
        else:
            prompts = [
                tok.apply_chat_template([{"role": "user", "content": q}], tokenize=False, add_generation_prompt=True)
                for q in QUESTIONS
            ]
        batch = tok(prompts, return_tensors="pt", padding=True, add_special_tokens=True)
        torch.manual_seed(seed)
        with torch.inference_mode():
            # no stop strings: keep what the model writes past where it should stop (eos ends a
            # row, as in every engine)
            out = model.generate(
                **batch,
                do_sample=True,
                temperature=0.7,
                top_p=1.0,
                top_k=0,
                max_new_tokens=max_new_tokens,
                pad_token_id=tok.pad_token_id,
                eos_token_id=tok.eos_token_id,
            )
        for q, prompt, ids in zip(QUESTIONS, prompts, out[:, batch["input_ids"].shape[1] :].tolist()):
            if tok.eos_token_id in ids:  # what follows eos is padding
                ids = ids[: ids.index(tok.eos_token_id)]
            text = tok.decode(ids, skip_special_tokens=False)
            rows.append({"template": template, "question": q, "prompt": prompt, "completion": text})
            print(template, repr(text[:160]), file=sys.stderr)
    with open(out_path, "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
