"""The benchmark suite of the matching engine: ``python -m benchmarks [--quick]``.

Seeded and reproducible; writes ``results.json``, ``results.md`` and PNG plots (default
``benchmarks/results/``). Scenarios are listed in ``benchmarks.scenarios``; targets are
judged in ``benchmarks.targets``. Every exact method (the engine in process, over gRPC
inline and against the registered pool, and the dense numpy + scipy reference) must report
the same objective on the same batch; the run fails loudly otherwise (``checks``).

This package's ``__init__`` imports nothing, because the throughput scenario's worker
processes import ``benchmarks.load`` and should stay light.
"""
