"""Drives HausKI's Ollama-compatible API with the official `ollama` client.

Usage: ollama_client.py BASE_URL
Prints one JSON object with what each call returned; the Rust test
(tests/it/api_serves_openai_clients.rs) asserts on it.
"""

import json
import sys
import urllib.request

import ollama


def main():
    base = sys.argv[1]
    client = ollama.Client(host=base)
    result = {}
    with urllib.request.urlopen(f"{base}/api/version") as r:
        result["version"] = json.load(r)["version"]
    listed = client.list().models
    result["tags"] = [m.model for m in listed]
    llm = next(m.model for m in listed if m.details.format == "gguf")
    embedder = next(m.model for m in listed if m.details.format != "gguf")
    show = client.show(llm)
    result["show"] = {"capabilities": show.capabilities, "quantization": show.details.quantization_level}

    messages = [{"role": "user", "content": "What colour is the sky?"}]
    options = {"temperature": 0, "num_predict": 12, "seed": 7}
    whole = client.chat(model=llm, messages=messages, stream=False, options=options)
    result["chat"] = {
        "content": whole.message.content,
        "role": whole.message.role,
        "done": whole.done,
        "done_reason": whole.done_reason,
        "eval_count": whole.eval_count,
        "prompt_eval_count": whole.prompt_eval_count,
    }
    chunks = list(client.chat(model=llm, messages=messages, stream=True, options=options))
    result["chat_stream"] = {
        "chunks": len(chunks),
        "text": "".join(c.message.content or "" for c in chunks),
        "last_done": chunks[-1].done,
        "done_before_last": any(c.done for c in chunks[:-1]),
    }
    generated = client.generate(model=llm, prompt="Say hello.", options={"temperature": 0, "num_predict": 8})
    result["generate"] = {"response": generated.response, "done": generated.done, "eval_count": generated.eval_count}

    vectors = client.embed(model=embedder, input=["A man is eating food.", "A man is eating a piece of bread."])
    a, b = vectors.embeddings
    dot = sum(x * y for x, y in zip(a, b))
    norm = (sum(x * x for x in a) ** 0.5) * (sum(y * y for y in b) ** 0.5)
    result["embed"] = {"count": len(vectors.embeddings), "dims": len(a), "cosine": dot / norm}

    too_long = [{"role": "user", "content": "Tell me about the kitchen. " * 2000}]
    for label, call in (
        ("unknown_model", lambda: client.chat(model="llama3:8b", messages=messages)),
        ("too_many_tokens", lambda: client.chat(model=llm, messages=messages, options={"num_predict": 1_000_000})),
        # Past the context and streamed: refused before the first line, as a status.
        ("stream_too_long", lambda: list(client.chat(model=llm, messages=too_long, stream=True))),
    ):
        try:
            call()
            result[label] = {"error": None}
        except ollama.ResponseError as e:
            result[label] = {"status": e.status_code, "error": e.error}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
