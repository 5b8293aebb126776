"""Load generators, and the reference servers they compare Agora with (docs/benchmarks.md)."""
