"""Where the volunteer registry lives: a small ``VolunteerStore`` protocol with an
in-memory implementation (the embedded default) and a Redis one."""
