"""Developer tools behind the CLI: a scratch server for contract runs and benchmarks."""
