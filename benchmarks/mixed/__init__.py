"""The mixed load test (issue #7): many concurrent clients drive the whole order lifecycle
over real gRPC channels for a fixed time, then the run is checked for consistency.

``python -m benchmarks.mixed`` is the command (``__main__``); ``tests/load/test_mixed_load.py``
runs a bounded version of it. Modules:

* ``workload``: the seeded data (volunteers to register, order templates, Match batches);
* ``calls``: per-rpc figures, what the clients were told (``Records``) and the offer inbox;
* ``context``: what the client threads share; ``roles``: the client loops (residents,
  dispatcher, notifier, matchers), ``volunteer_app`` and ``centre_desk`` the other two;
* ``server_proc``: the server in a child process and read-only store snapshots;
* ``consistency`` / ``ledger_checks``: the checks after the run;
* ``run``: one run from start to verdict; ``audit``: reading the server back after the load
  and running the checks on it; ``probes``: the access-control probes of a keyed run;
* ``report``: the table and the JSON file's name.
"""
