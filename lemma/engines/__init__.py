"""Generation engines behind one interface (see lemma.engines.base)."""
