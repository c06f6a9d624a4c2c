"""Teachers: the oracle of the built-in world and LLM teachers behind an engine."""
