"""`python -m lemma.study run|collect ...`: the seeded grid of workflow runs (lemma.study.grid)."""

from lemma.study.grid import main

raise SystemExit(main())
