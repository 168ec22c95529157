"""An offline imitation of the remote services ML Commons connectors call (``mlgate mock-provider``).

It answers like OpenAI, Cohere, Bedrock, SageMaker, Comprehend and Textract with deterministic
outputs, injects faults on request (``mock_*`` query parameters, see :mod:`.faults`), can verify
SigV4 signatures, and records every request for tests (``GET /_mock/requests``).
"""

from mlgate.mockprovider.app import create_app
from mlgate.mockprovider.server import MockProvider, main, start_mock_provider

__all__ = ["MockProvider", "create_app", "main", "start_mock_provider"]
