"""crmkit benchmarks: ``python -m bench --help``.  Not part of the test run."""
