"""Judging the judge: the teacher's first-wrong-step verdicts measured on labelled sets (ProcessBench's
metrics), before augmentation is paid for."""
