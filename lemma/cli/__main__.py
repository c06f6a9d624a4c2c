"""`python -m lemma.cli ...`: the `lemma` command without the installed entry point."""

import sys

from lemma.cli import main

sys.exit(main())
