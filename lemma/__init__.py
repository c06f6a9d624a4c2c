"""lemma: the library behind the lemma-workflow Snakemake pipeline (LEMMA, arXiv 2503.17439).

All logic lives here; the workflow's scripts/ are thin wrappers that read snakemake.input/params,
call into this package and write outputs.
"""

__version__ = "0.1.0"
