"""Home Assistant's Assist pipeline against HausKI's Wyoming server, with the
`wyoming` package's own client, the way HA drives it:

- wake: `detect`, `audio-start`, then chunks in real time that never stop:
  the `detection` must come mid-stream (no `audio-stop` is ever sent);
- conversation: `transcript` in, `handled` out.

Usage: wyoming_pipeline.py HOST PORT WAKE_WAV
Prints one JSON object; tests/it/wyoming_serves_home_assistant.rs asserts on it.
"""

import array
import asyncio
import json
import sys
import time
import wave

from wyoming.asr import Transcript
from wyoming.audio import AudioChunk, AudioStart
from wyoming.client import AsyncTcpClient
from wyoming.error import Error
from wyoming.handle import Handled
from wyoming.info import Describe, Info
from wyoming.wake import Detect, Detection

CHUNK_MS = 20
# Audio after the wake word: the stream goes on, as a microphone's would.
TAIL_S = 4.0


def last_loud_chunk(chunks, width):
    """The chunk that holds the word's last loud sample (within 30 dB of the loudest)."""
    assert width == 2
    peaks = [max((abs(s) for s in array.array("h", c)), default=0) for c in chunks]
    loudest = max(peaks)
    return max(i for i, p in enumerate(peaks) if p * 31.6 >= loudest)


async def stream_wake_word(client, path):
    with wave.open(path, "rb") as w:
        rate, width, channels = w.getframerate(), w.getsampwidth(), w.getnchannels()
        pcm = w.readframes(w.getnframes())
    step = rate * width * channels * CHUNK_MS // 1000
    silence = bytes(step)
    chunks = [pcm[i : i + step] for i in range(0, len(pcm), step)]
    word_end_chunk = last_loud_chunk(chunks, width)
    chunks += [silence] * int(TAIL_S * 1000 / CHUNK_MS)
    word_end_at = None
    started = time.monotonic()
    await client.write_event(Detect(names=["hey-hauski"]).event())
    await client.write_event(AudioStart(rate=rate, width=width, channels=channels).event())

    async def send():
        nonlocal word_end_at
        for i, chunk in enumerate(chunks):
            await client.write_event(AudioChunk(rate=rate, width=width, channels=channels, audio=chunk).event())
            if i == word_end_chunk:
                word_end_at = time.monotonic()
            # Real time: a microphone delivers a chunk every CHUNK_MS.
            await asyncio.sleep(CHUNK_MS / 1000)

    sender = asyncio.create_task(send())
    result = {"detected": False}
    try:
        event = await asyncio.wait_for(client.read_event(), timeout=TAIL_S + len(pcm) / (rate * width * channels) + 5)
    except asyncio.TimeoutError:
        event = None
    received_at = time.monotonic()
    if event is not None and Detection.is_type(event.type):
        d = Detection.from_event(event)
        result = {
            "detected": True,
            "name": d.name,
            "timestamp": d.timestamp,
            "sent_s": (word_end_at or received_at) - started,
            # From the chunk that held the word's end to the detection.
            "after_word_end_s": received_at - word_end_at if word_end_at else None,
            "audio_stop_sent": False,
        }
    elif event is not None:
        result = {"event": event.type, "data": event.data}
    sender.cancel()
    return result


async def main():
    host, port, wake = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    result = {}
    async with AsyncTcpClient(host, port) as client:
        await client.write_event(Describe().event())
        info = Info.from_event(await client.read_event())
        result["handle_programs"] = [p.name for p in info.handle]
        result["wake"] = await stream_wake_word(client, wake)

    # A new connection, as HA opens one per stage.
    async with AsyncTcpClient(host, port) as client:
        questions = (
            ("question", "What is the capital of France?"),
            ("command", "Switch to the kitchen profile."),
            ("time", "What time is it?"),
            ("list", "Put oat milk on the shopping list."),
            ("skill_by_llm", "Could you please count down a timer of four minutes for my tea?"),
        )
        for label, text in questions:
            # The local clock around the question, read by Python: what a right answer says.
            result[f"{label}_clock"] = [time.strftime("%-H:%M")]
            await client.write_event(Transcript(text=text).event())
            event = await client.read_event()
            if Handled.is_type(event.type):
                result[label] = {"handled": Handled.from_event(event).text}
            elif Error.is_type(event.type):
                result[label] = {"error": Error.from_event(event).text}
            else:
                result[label] = {"event": event.type}
            result[f"{label}_clock"].append(time.strftime("%-H:%M"))
    print(json.dumps(result))


if __name__ == "__main__":
    asyncio.run(main())
