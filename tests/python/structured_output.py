"""Structured output and tool calls through the official `openai` and `ollama`
clients, each answer checked with the `jsonschema` package (not HausKI's code).

Usage: structured_output.py BASE_URL
Prints one JSON object with what each call returned; the Rust test
(tests/it/structured_output_and_tools.rs) asserts on it.
"""

import json
import sys
import urllib.error
import urllib.request

import jsonschema
import ollama
import openai
from openai import OpenAI

CITY = {
    "type": "object",
    "properties": {
        "city": {"type": "string", "minLength": 1, "maxLength": 24},
        "country": {"type": "string", "minLength": 1, "maxLength": 24},
        "population_millions": {"type": "number"},
        "is_capital": {"type": "boolean"},
        "landmarks": {"type": "array", "items": {"type": "string", "maxLength": 24}, "minItems": 1, "maxItems": 2},
    },
    "required": ["city", "country", "population_millions", "is_capital", "landmarks"],
    "additionalProperties": False,
}

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The current weather in a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "minLength": 1, "maxLength": 24},
                "unit": {"enum": ["celsius", "fahrenheit"]},
            },
            "required": ["city", "unit"],
            "additionalProperties": False,
        },
    },
}

TIMER = {
    "type": "function",
    "function": {
        "name": "start_timer",
        "description": "Starts a kitchen timer",
        "parameters": {
            "type": "object",
            "properties": {"minutes": {"type": "integer", "minimum": 1, "maximum": 600}},
            "required": ["minutes"],
        },
    },
}


def valid(instance, schema):
    try:
        jsonschema.validate(instance, schema)
        return True
    except jsonschema.ValidationError:
        return False


def parsed(text):
    try:
        return json.loads(text)
    except (TypeError, json.JSONDecodeError):
        return None


def json_schema_answers(client):
    """The same question under 20 seeds: every answer must validate."""
    answers = []
    for seed in range(20):
        chat = client.chat.completions.create(
            model="hauski",
            messages=[{"role": "user", "content": "Describe Paris."}],
            response_format={"type": "json_schema", "json_schema": {"name": "city", "schema": CITY, "strict": True}},
            temperature=1.0,
            seed=seed,
            max_tokens=200,
        )
        answers.append((chat.choices[0].message.content, chat.choices[0].finish_reason))
    return {
        "total": len(answers),
        "valid": sum(1 for text, _ in answers if valid(parsed(text), CITY)),
        "distinct": len({text for text, _ in answers}),
        "finish_reasons": sorted({reason for _, reason in answers}),
        "first": answers[0][0],
    }


def tool_call_summary(message, finish_reason):
    calls = message.tool_calls or []
    tools = {t["function"]["name"]: t["function"]["parameters"] for t in (WEATHER, TIMER)}
    return {
        "finish_reason": finish_reason,
        "count": len(calls),
        "names": [c.function.name for c in calls],
        "ids": [c.id for c in calls],
        "types": [c.type for c in calls],
        "arguments_valid": [valid(parsed(c.function.arguments), tools.get(c.function.name, {})) for c in calls],
        "content": message.content,
    }


def forced_tool_calls(client):
    result = {}
    question = [{"role": "user", "content": "What's the weather like in Bonn?"}]
    named = client.chat.completions.create(
        model="hauski",
        messages=question,
        tools=[WEATHER, TIMER],
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
        temperature=0,
        max_tokens=80,
    )
    result["named"] = tool_call_summary(named.choices[0].message, named.choices[0].finish_reason)
    required = client.chat.completions.create(
        model="hauski",
        messages=[{"role": "user", "content": "Set a timer for ten minutes."}],
        tools=[WEATHER, TIMER],
        tool_choice="required",
        temperature=0.8,
        seed=3,
        max_tokens=80,
    )
    result["required"] = tool_call_summary(required.choices[0].message, required.choices[0].finish_reason)

    # Streamed: the call arrives as tool_calls deltas.
    name, arguments, finish = "", "", None
    for chunk in client.chat.completions.create(
        model="hauski", messages=question, tools=[WEATHER], tool_choice="required", temperature=0, max_tokens=80, stream=True
    ):
        for choice in chunk.choices:
            for call in choice.delta.tool_calls or []:
                name += call.function.name or ""
                arguments += call.function.arguments or ""
            finish = choice.finish_reason or finish
    result["streamed"] = {
        "name": name,
        "arguments_valid": valid(parsed(arguments), WEATHER["function"]["parameters"]),
        "finish_reason": finish,
    }

    # The call and its result go back into the chat; the model answers in words.
    call = named.choices[0].message.tool_calls[0]
    follow_up = client.chat.completions.create(
        model="hauski",
        messages=question
        + [
            named.choices[0].message.model_dump(exclude_none=True),
            {"role": "tool", "tool_call_id": call.id, "content": json.dumps({"temperature": 21, "sky": "sunny"})},
        ],
        tools=[WEATHER],
        tool_choice="none",
        temperature=0,
        max_tokens=40,
    )
    result["follow_up"] = {
        "content": follow_up.choices[0].message.content,
        "tool_calls": follow_up.choices[0].message.tool_calls,
        "finish_reason": follow_up.choices[0].finish_reason,
    }
    return result


def refusals(client):
    out = {}
    for label, kwargs in (
        ("unknown_tool_choice", {"tools": [WEATHER], "tool_choice": {"type": "function", "function": {"name": "fly"}}}),
        ("schema_missing", {"response_format": {"type": "json_schema", "json_schema": {"name": "x"}}}),
        ("schema_not_convertible", {"response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "frobnicate"}}}}),
        ("format_type", {"response_format": {"type": "yaml"}}),
    ):
        try:
            client.chat.completions.create(
                model="hauski", messages=[{"role": "user", "content": "Hi"}], max_tokens=4, **kwargs
            )
            out[label] = {"status": 200}
        except openai.BadRequestError as e:
            out[label] = {"status": e.status_code, "param": e.body.get("param"), "message": e.body.get("message")}
    return out


def ollama_calls(base):
    client = ollama.Client(host=base)
    result = {}
    schema_answers = []
    for seed in range(3):
        answer = client.chat(
            model="hauski",
            messages=[{"role": "user", "content": "Describe Rome."}],
            format=CITY,
            stream=False,
            options={"temperature": 1.0, "seed": seed, "num_predict": 200},
        )
        schema_answers.append(answer.message.content)
    result["format_schema_valid"] = sum(1 for a in schema_answers if valid(parsed(a), CITY))
    any_json = client.generate(model="hauski", prompt="Name a colour.", format="json", options={"num_predict": 60})
    result["format_json_is_object"] = isinstance(parsed(any_json.response), dict)
    # A chat holding an earlier call and its result, with tools offered: accepted and answered.
    history = [
        {"role": "user", "content": "What's the weather in Bonn?"},
        {"role": "assistant", "content": "", "tool_calls": [{"function": {"name": "get_weather", "arguments": {"city": "Bonn", "unit": "celsius"}}}]},
        {"role": "tool", "tool_name": "get_weather", "content": "21 degrees and sunny"},
    ]
    streamed = list(
        client.chat(model="hauski", messages=history, tools=[WEATHER], stream=True, options={"temperature": 0, "num_predict": 60})
    )
    calls = [c for chunk in streamed for c in (chunk.message.tool_calls or [])]
    words = "".join(chunk.message.content or "" for chunk in streamed)
    result["tools_history"] = {
        "done": streamed[-1].done,
        "answered": bool(words.strip()) or bool(calls),
        "calls_valid": all(valid(dict(c.function.arguments), WEATHER["function"]["parameters"]) for c in calls),
        "leaked_tag": "<tool_call>" in words,
    }
    # The client checks `format`'s type itself, so a wrong one goes out raw.
    body = json.dumps({"model": "hauski", "messages": history, "format": 42, "stream": False}).encode()
    request = urllib.request.Request(f"{base}/api/chat", data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request) as r:
            result["bad_format"] = {"status": r.status}
    except urllib.error.HTTPError as e:
        result["bad_format"] = {"status": e.code, "error": json.load(e).get("error")}
    return result


def main():
    base = sys.argv[1]
    client = OpenAI(base_url=f"{base}/v1", api_key="unused-on-loopback", max_retries=0, timeout=300)
    result = {"json_schema": json_schema_answers(client)}
    json_object = client.chat.completions.create(
        model="hauski",
        messages=[{"role": "user", "content": "Give me a colour and its hex code."}],
        response_format={"type": "json_object"},
        temperature=0,
        max_tokens=120,
    )
    result["json_object_is_object"] = isinstance(parsed(json_object.choices[0].message.content), dict)
    result["tools"] = forced_tool_calls(client)
    result["refusals"] = refusals(client)
    result["ollama"] = ollama_calls(base)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
