"""The conformance runner: every published ML Commons connector blueprint, replayed against mlgate."""
