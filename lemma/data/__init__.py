"""Real datasets and benchmarks: loaders for their public layouts, and few-shot prompts.

See docs/data.md for the layout each format expects.
"""

from lemma.data.loaders import FORMATS, load_dataset_file
from lemma.data.readers import DataError

__all__ = ["DataError", "FORMATS", "load_dataset_file"]
