"""The pure matching core: numpy/scipy functions over arrays and frozen dataclasses.

Nothing in this package imports gRPC, Redis, environment variables or logging setup.
"""
