"""The telemetry edge: Prometheus exposition and OpenTelemetry export behind the domain's Telemetry port."""
