"""Painless interpreter throughput: a Titan embedding post-process script on a 1,536-float response.

Run: PYTHONPATH=src python bench/bench_painless.py
Prints compile time and microseconds per execute() call for a few typical connector scripts.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

from mlgate.painless import compile_script

# P2 in painless-usage.md: the Bedrock Titan / Aleph Alpha embedding post-process function.
TITAN_POST = """
      def name = "sentence_embedding";
      def dataType = "FLOAT32";
      if (params.embedding == null || params.embedding.length == 0) {
        return params.message;
      }
      def shape = [params.embedding.length];
      def json = "{" +
                 "\\"name\\":\\"" + name + "\\"," +
                 "\\"data_type\\":\\"" + dataType + "\\"," +
                 "\\"shape\\":" + shape + "," +
                 "\\"data\\":" + params.embedding +
                 "}";
      return json;
"""

# P8: an LLM-judgment post-process function using the injected escape().
JUDGMENT_POST = (
    "def text = params.choices[0].message.content; "
    'return \'{"name":"response","dataAsMap":{"response":"\' + escape(text) + \'"}}\''
)

# P16: a rerank pre-process function with a counted loop over the documents.
RERANK_PRE = """
        def query_text = params.query_text;
        def text_docs = params.text_docs;
        def textDocsBuilder = new StringBuilder('[');
        for (int i=0; i<text_docs.length; i++) {
          textDocsBuilder.append('"');
          textDocsBuilder.append(text_docs[i]);
          textDocsBuilder.append('"');
          if (i<text_docs.length - 1) {
            textDocsBuilder.append(',');
          }
        }
        textDocsBuilder.append(']');
        def parameters = '{ "query": "' + query_text + '",  "documents": ' + textDocsBuilder.toString() + ' }';
        return  '{"parameters": ' + parameters + '}';
"""


def measure(label: str, source: str, params: dict[str, Any], min_seconds: float = 1.0) -> None:
    """Print compile time and the mean µs per execute() over at least ``min_seconds``."""
    started = time.perf_counter()
    script = compile_script(source)
    compile_ms = (time.perf_counter() - started) * 1000
    execute: Callable[[dict[str, Any]], Any] = script.execute
    execute(params)  # warm up
    calls, elapsed = 0, 0.0
    started = time.perf_counter()
    while elapsed < min_seconds:
        for _ in range(100):
            execute(params)
        calls += 100
        elapsed = time.perf_counter() - started
    print(
        f"{label:<48} compile {compile_ms:7.2f} ms   execute {elapsed / calls * 1e6:9.1f} µs/call   ({calls} calls)"
    )


def main() -> None:
    rng = random.Random(42)
    compile_script("return 1")  # builds the shared parser, so compile figures below are per script
    # Titan-like magnitudes (no value below 1e-3: every double prints as Python's repr does) ...
    embedding = [rng.choice((-1, 1)) * rng.uniform(0.001, 1.0) for _ in range(1536)]
    measure("titan post-process, 1,536 floats in [1e-3, 1)", TITAN_POST, {"embedding": embedding})
    # ... and OpenAI-like ones (N(0, 0.03): some values need the Java exponent form).
    embedding = [rng.gauss(0.0, 0.03) for _ in range(1536)]
    measure("titan post-process, 1,536 gaussian floats", TITAN_POST, {"embedding": embedding})
    answer = 'The meaning of life is "42".\nIt depends.\n' * 20
    measure(
        "LLM judgment post-process with escape()",
        JUDGMENT_POST,
        {"choices": [{"message": {"content": answer}}]},
    )
    docs = [f"document number {i} about the capital of a country" for i in range(50)]
    measure("rerank pre-process, 50 documents", RERANK_PRE, {"query_text": "capital?", "text_docs": docs})


if __name__ == "__main__":
    main()
