"""What the report and `lemma stats` / `lemma show` print: the data funnel (funnel.py), the HTML
tables and example pages (tables.py) and the training curves (curves.py)."""
