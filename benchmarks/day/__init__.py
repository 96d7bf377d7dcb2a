"""A day at the centre in simulated time, dispatched three ways (issue #14):
``python -m benchmarks.day`` and the suite's ``day`` scenario.

Orders arrive over a day with morning and evening peaks, volunteers work shifts and are busy
for the trip and the service, offers are declined or expire by a seeded rule. The same day and
seed go to greedy on arrival (the centre's method, ``greedy_arm``), to the engine's own
dispatch rounds (``engine_arm``: the lifecycle's desk, dispatcher and rounds on the memory
stores) and to the hindsight bound (``bound``: an integer program on a time-expanded network).

``world`` holds the day's types and rules, ``generate`` the seeded days, ``metrics`` the
figures, ``run`` the runs and sums over seeds, ``targets`` the issue's targets, ``report``
the Markdown and ``plot`` the PNG.
"""
