"""Benchmarks: a million-lead tenant in a separate database and the pages measured against it (bench/README.md)."""
