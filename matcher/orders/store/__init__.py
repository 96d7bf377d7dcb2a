"""The order-store port (``base``) with its memory and Redis adapters; file names as in
``matcher.registry.store``."""
