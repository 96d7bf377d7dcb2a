"""How one dispatch round's time grows with the backlog: ``python -m benchmarks.rounds``.

* ``backlog``: the seeded backlog of live orders (and the registry of its volunteers);
* ``measure``: one store, backlog size and count of busy threads, timed over repeats;
* ``report``: the table on stdout and ``round_scaling.json``;
* ``__main__``: the command line.
"""
