"""The gRPC edge: the server, the wiring of every service, one servicer module per proto
service, the one error mapping, interceptors, health and protobuf <-> domain conversion."""
