"""Access control: API keys with roles, the one role -> method table, object-level checks
(whose order, whose offer), privacy of what each role sees, and per-key rate limits.

``keys`` loads and hashes keys, ``roles`` holds the permission table, ``principal`` the
caller of the current call, ``policy`` the object-level checks servicers call,
``rate_limit`` the token buckets and ``interceptor`` the one server interceptor that
authenticates, authorises, rate-limits and checks the deadline before a servicer runs.
"""
