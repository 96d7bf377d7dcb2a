"""Operator and developer tools behind the ``matcher`` command: demo, simulate, synthetic data,
volunteer files and import, status, keys."""
