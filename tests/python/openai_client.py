"""Drives a running `hauski serve` with the official `openai` SDK, unchanged.

Usage: openai_client.py BASE_URL JFK_WAV OUT_DIR
Prints one JSON object with what each call returned; the Rust test
(tests/it/api_serves_openai_clients.rs) asserts on it. Any exception fails the run.
"""

import json
import math
import sys
import time

import openai
from openai import OpenAI


def cosine(a, b):
    dot = sum(x * y for x, y in zip(a, b))
    return dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))


def main():
    base, jfk, out_dir = sys.argv[1], sys.argv[2], sys.argv[3]
    client = OpenAI(base_url=f"{base}/v1", api_key="unused-on-loopback", max_retries=0, timeout=120)
    result = {}

    chat = client.chat.completions.create(
        model="hauski",
        messages=[
            {"role": "system", "content": "You answer in one short sentence."},
            {"role": "user", "content": "What is the capital of France?"},
        ],
        max_tokens=24,
        temperature=0,
    )
    result["chat"] = {
        "content": chat.choices[0].message.content,
        "role": chat.choices[0].message.role,
        "finish_reason": chat.choices[0].finish_reason,
        "usage": chat.usage.model_dump(),
        "model": chat.model,
    }

    limited = client.chat.completions.create(
        model="hauski",
        messages=[{"role": "user", "content": "Tell me a long story about a dragon."}],
        max_completion_tokens=5,
        temperature=0.7,
        top_p=0.9,
        seed=7,
    )
    result["limited"] = {
        "finish_reason": limited.choices[0].finish_reason,
        "completion_tokens": limited.usage.completion_tokens,
    }

    started = time.monotonic()
    arrivals, pieces, finish, usage = [], [], None, None
    stream = client.chat.completions.create(
        model="hauski",
        messages=[{"role": "user", "content": "Tell me about the sea."}],
        max_tokens=32,
        stream=True,
        stream_options={"include_usage": True},
    )
    for chunk in stream:
        arrivals.append(time.monotonic() - started)
        if chunk.choices:
            delta = chunk.choices[0].delta
            if delta.content:
                pieces.append(delta.content)
            if chunk.choices[0].finish_reason:
                finish = chunk.choices[0].finish_reason
        if chunk.usage:
            usage = chunk.usage.model_dump()
    result["stream"] = {
        "chunks": len(arrivals),
        "content_chunks": len(pieces),
        "text": "".join(pieces),
        "first_s": arrivals[0],
        "last_s": arrivals[-1],
        "finish_reason": finish,
        "usage": usage,
    }

    pair = ["A man is eating food.", "A man is eating a piece of bread.", "The stock market fell sharply today."]
    emb = client.embeddings.create(model="minilm-l6-v2", input=pair)
    vectors = [d.embedding for d in emb.data]
    single = client.embeddings.create(model="minilm-l6-v2", input=pair[0], encoding_format="float")
    result["embeddings"] = {
        "count": len(vectors),
        "dims": [len(v) for v in vectors],
        "paraphrase": cosine(vectors[0], vectors[1]),
        "unrelated": cosine(vectors[0], vectors[2]),
        "single_vs_batch": cosine(single.data[0].embedding, vectors[0]),
    }

    result["models"] = sorted(m.id for m in client.models.list())

    with open(jfk, "rb") as f:
        transcript = client.audio.transcriptions.create(model="whisper-1", file=f)
    result["transcription"] = transcript.text
    with open(jfk, "rb") as f:
        verbose = client.audio.transcriptions.create(model="whisper-1", file=f, response_format="verbose_json")
    result["verbose"] = {"duration": verbose.duration, "segments": len(verbose.segments or [])}

    speech = client.audio.speech.create(
        model="tts-1", voice="alloy", input="The kitchen timer is done.", response_format="wav"
    )
    spoken = f"{out_dir}/speech.wav"
    speech.write_to_file(spoken)
    with open(spoken, "rb") as f:
        result["speech_read_back"] = client.audio.transcriptions.create(model="whisper-1", file=f).text

    errors = {}
    try:
        client.chat.completions.create(model="no-such-model", messages=[{"role": "user", "content": "hi"}])
    except openai.NotFoundError as e:
        errors["unknown_model"] = {"status": e.status_code, "code": e.code, "message": e.message}
    try:
        client.chat.completions.create(model="hauski", messages=[])
    except openai.BadRequestError as e:
        errors["empty_messages"] = {"status": e.status_code, "param": e.param, "message": e.message}
    # A prompt past the context, streamed: refused before the first token,
    # so the SDK raises instead of yielding an error event after a 200.
    try:
        long_question = "Tell me about the kitchen. " * 2000
        for _ in client.chat.completions.create(
            model="hauski", messages=[{"role": "user", "content": long_question}], stream=True
        ):
            pass
    except openai.BadRequestError as e:
        errors["stream_too_long"] = {"status": e.status_code, "param": e.param, "message": e.message}
    result["errors"] = errors

    print(json.dumps(result))


if __name__ == "__main__":
    main()
