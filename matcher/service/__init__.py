"""The gRPC edge: the server (start, drain, signals), the stores it opens, the wiring of every
service, one servicer module per proto service, the one error mapping, the interceptors,
health and protobuf <-> domain conversion."""
