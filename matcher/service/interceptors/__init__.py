"""The server's interceptors, outermost first: message size, access (deadline, key, role,
rate), and observe (access log, metrics, tracing)."""
