"""What the teacher costs: calls, tokens and dollars, done and to come (`lemma estimate`)."""
