"""What operators see: Prometheus metrics, order metrics, store timing, tracing and logs."""
