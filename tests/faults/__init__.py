"""Fault tests (issue #7): Redis stopped and restarted under load, the server SIGKILLed
mid-round and restarted, slow and numerous offer streams. Run them with
``.venv/bin/python -m pytest tests/faults -v``."""
