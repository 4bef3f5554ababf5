"""Listens to HausKI's bus and sends it commands, with the official `nats-py` client.

Usage: nats_client.py NATS_URL
Prints one JSON object per line on stdout:
  {"ready": true}                          subscribed to hauski.>
  {"subject": S, "data": {...}}            an event (or a command's echo)
  {"reply": {...}}                         the answer to a command
  {"connection": "disconnected"|"reconnected"}
Reads commands on stdin, one per line: `SUBJECT PAYLOAD` (the payload is sent
as is, so a test can send malformed JSON). The Rust test
(tests/realtime/voice_loop_on_pipewire.rs) drives it and asserts on what it prints.
"""

import asyncio
import json
import sys

import nats


def say(obj):
    print(json.dumps(obj), flush=True)


async def main(url):
    async def disconnected():
        say({"connection": "disconnected"})

    async def reconnected():
        say({"connection": "reconnected"})

    client = await nats.connect(
        url,
        max_reconnect_attempts=-1,
        reconnect_time_wait=0.2,
        disconnected_cb=disconnected,
        reconnected_cb=reconnected,
    )

    async def on_event(msg):
        try:
            data = json.loads(msg.data)
        except ValueError:
            data = msg.data.decode(errors="replace")
        say({"subject": msg.subject, "data": data})

    await client.subscribe("hauski.>", cb=on_event)
    await client.flush()
    say({"ready": True})

    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := await reader.readline():
        subject, _, payload = line.decode().strip().partition(" ")
        if not subject:
            continue
        try:
            answer = await client.request(subject, payload.encode(), timeout=10)
            say({"reply": json.loads(answer.data)})
        except Exception as e:  # noqa: BLE001 - the test reads what went wrong
            say({"reply": {"ok": False, "error": f"no reply: {e!r}"}})
    await client.drain()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
