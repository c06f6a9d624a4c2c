"""The built-in world: generated word problems (problems.py), their solution format
(solution.py), the tiny student's tokenizer and model (tokenizer.py, student.py)."""
