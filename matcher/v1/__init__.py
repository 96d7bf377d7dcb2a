"""Generated protobuf and gRPC stubs for ``matcher.v1`` (do not edit; see scripts/generate_stubs.py)."""
