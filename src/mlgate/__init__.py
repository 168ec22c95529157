"""mlgate: a standalone server for the OpenSearch ML Commons remote-model API."""

__version__ = "0.1.0"
