"""Text the method reads and writes: prompts, solution steps, reflection phrases, token counts, shared names."""
