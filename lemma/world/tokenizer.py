"""A small BPE tokenizer for the built-in world, trained locally with the `tokenizers` library.

Digits are split one per token (so "24" is "2", "4"): the tiny student then does arithmetic digit by
digit instead of memorising a token per number, which is what makes it learn carries at all. The
pre-tokenizer is byte-level with the full 256-byte alphabet, so any text (a teacher's reflection
phrase with an em dash, say) encodes without <unk> and decodes back to exactly the same string.

The result is saved with `save_pretrained`, so `AutoTokenizer.from_pretrained(out_dir)` loads it
like any Hugging Face tokenizer; encoding adds <s> in front (like Llama tokenizers do), never </s>:
the training code appends </s> to responses itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import AutoTokenizer, PreTrainedTokenizerFast

BOS, EOS, PAD, UNK = "<s>", "</s>", "<pad>", "<unk>"
SPECIAL_TOKENS = [PAD, BOS, EOS, UNK]  # fixed order: pad=0, bos=1, eos=2, unk=3
_WORDS = r"""'(?:s|t|re|ve|m|ll|d)| ?\p{L}+| ?\p{N}| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""


def _build_backend() -> Tokenizer:
    tok = Tokenizer(models.BPE(unk_token=UNK))
    # GPT-2's word-splitting regex, except that a number is cut into single digits with the space
    # before it riding on the first digit (" 24" -> " 2", "4"). Digits(individual_digits=True) after
    # the byte-level regex would leave that space as a token of its own: ~12% longer sequences.
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(_WORDS), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tok.decoder = decoders.ByteLevel()
    return tok


def train_tokenizer(texts: Iterable[str], out_dir: str, vocab_size: int = 512) -> PreTrainedTokenizerFast:
    """Train a byte-level BPE on `texts`, save it to `out_dir` and return it (deterministic)."""
    min_vocab = 256 + len(SPECIAL_TOKENS)
    if vocab_size < min_vocab:
        raise ValueError(f"vocab_size={vocab_size} is too small: the byte alphabet and special tokens need {min_vocab}")
    tok = _build_backend()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=2,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    # The trainer counts words in a hash map but breaks frequency ties by pair content, so the same
    # texts always give the same merges; materialising the iterable keeps a generator usable once.
    texts = [t for t in texts if t]
    if not texts:
        raise ValueError("train_tokenizer got no non-empty texts")
    tok.train_from_iterator(texts, trainer=trainer, length=len(texts))
    bos_id = tok.token_to_id(BOS)
    tok.post_processor = processors.TemplateProcessing(
        single=f"{BOS} $A", pair=f"{BOS} $A $B", special_tokens=[(BOS, bos_id)]
    )
    hf = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=BOS,
        eos_token=EOS,
        pad_token=PAD,
        unk_token=UNK,
        model_input_names=["input_ids", "attention_mask"],
        padding_side="right",
        clean_up_tokenization_spaces=False,
    )
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    hf.save_pretrained(out_dir)
    # Hand back what every later stage will load, so nothing depends on in-memory-only settings.
    return AutoTokenizer.from_pretrained(out_dir)
