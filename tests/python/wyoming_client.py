"""Drives HausKI's Wyoming server with the `wyoming` package's own client.

Usage: wyoming_client.py HOST PORT JFK_WAV WAKE_WAV
Prints one JSON object with what each exchange returned; the Rust test
(tests/it/wyoming_serves_home_assistant.rs) asserts on it.
"""

import asyncio
import json
import sys
import wave

from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.error import Error
from wyoming.info import Describe, Info
from wyoming.ping import Ping, Pong
from wyoming.tts import Synthesize
from wyoming.wake import Detect, Detection, NotDetected


def read_wav(path):
    with wave.open(path, "rb") as w:
        return w.getframerate(), w.getsampwidth(), w.getnchannels(), w.readframes(w.getnframes())


async def send_audio(client, path, chunk_ms=100):
    rate, width, channels, pcm = read_wav(path)
    step = rate * width * channels * chunk_ms // 1000
    await client.write_event(AudioStart(rate=rate, width=width, channels=channels).event())
    for i in range(0, len(pcm), step):
        await client.write_event(AudioChunk(rate=rate, width=width, channels=channels, audio=pcm[i : i + step]).event())
    await client.write_event(AudioStop().event())


async def main():
    host, port, jfk, wake = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    result = {}
    async with AsyncTcpClient(host, port) as client:
        await client.write_event(Describe().event())
        info = Info.from_event(await client.read_event())
        result["info"] = {
            "asr": [m.name for p in info.asr for m in p.models],
            "tts": [v.name for p in info.tts for v in p.voices],
            "wake": [m.name for p in info.wake for m in p.models],
            "wake_phrases": [m.phrase for p in info.wake for m in p.models],
        }

        await client.write_event(Transcribe(language="en").event())
        await send_audio(client, jfk)
        event = await client.read_event()
        result["transcript"] = Transcript.from_event(event).text if Transcript.is_type(event.type) else event.data

        await client.write_event(Synthesize(text="The kitchen timer is done.").event())
        start = AudioStart.from_event(await client.read_event())
        pcm = bytearray()
        while True:
            event = await client.read_event()
            if AudioStop.is_type(event.type):
                break
            pcm += AudioChunk.from_event(event).audio
        result["synthesis"] = {"rate": start.rate, "width": start.width, "channels": start.channels, "bytes": len(pcm)}
        with wave.open(sys.argv[5], "wb") as w:
            w.setframerate(start.rate)
            w.setsampwidth(start.width)
            w.setnchannels(start.channels)
            w.writeframes(bytes(pcm))

        for label, path in (("detect_wake", wake), ("detect_other", jfk)):
            await client.write_event(Detect(names=["hey-hauski"]).event())
            await send_audio(client, path)
            event = await client.read_event()
            if Detection.is_type(event.type):
                d = Detection.from_event(event)
                result[label] = {"detected": True, "name": d.name, "timestamp": d.timestamp}
            elif NotDetected.is_type(event.type):
                result[label] = {"detected": False}
            else:
                result[label] = {"error": Error.from_event(event).text}
            # Detections come as they are heard: collect any more up to a ping's pong.
            await client.write_event(Ping().event())
            while not Pong.is_type((event := await client.read_event()).type):
                result[label].setdefault("more", []).append(event.type)

        await client.write_event(AudioChunk(rate=16000, width=2, channels=1, audio=b"\0\0").event())
        event = await client.read_event()
        result["chunk_without_start"] = Error.from_event(event).text if Error.is_type(event.type) else event.type

    print(json.dumps(result))


if __name__ == "__main__":
    asyncio.run(main())
