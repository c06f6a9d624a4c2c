"""The study of results: statistics (intervals, paired tests), the reflection mechanism, the seeded grid of runs."""
