"""Tables on disk: parquet and JSONL reading and writing, the explicit schemas of every record, the scores table."""
