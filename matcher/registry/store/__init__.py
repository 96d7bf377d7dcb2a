"""Where the volunteer registry lives: a small ``VolunteerStore`` protocol (``base``) with an
in-memory implementation (the embedded default) and a Redis one. ``redis_base`` and
``redis_errors`` are what every Redis-backed store shares (the order store's too)."""
