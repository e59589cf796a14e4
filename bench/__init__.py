"""The benchmarks, run from the project's root as modules: `python -m bench.<name>`
(`make bench` runs them all through `python -m bench.run_all`)."""
