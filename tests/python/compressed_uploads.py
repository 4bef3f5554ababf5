"""Encodes a WAV into the formats people actually upload, with FFmpeg's own
encoders (through PyAV, not HausKI's code), and sends each to HausKI's
transcription endpoint with the official `openai` client.

Usage: compressed_uploads.py BASE_URL WAV OUT_DIR
Prints one JSON object: per format, the file's size and the transcript (or
the error), plus what came back for files that are not audio.
"""

import json
import os
import sys

import av
import openai
from openai import OpenAI

# (file name, container, codec, sample rate, channels): what phones,
# messengers and browsers produce.
FORMATS = [
    ("jfk.mp3", "mp3", "libmp3lame", 44100, 2),
    ("jfk.m4a", "ipod", "aac", 44100, 1),
    ("jfk-voice-note.ogg", "ogg", "libopus", 48000, 1),
    ("jfk-vorbis.ogg", "ogg", "vorbis", 22050, 2),
    ("jfk-browser.webm", "webm", "libopus", 48000, 1),
]


def encode(source, target, container, codec, rate, channels):
    """Decodes `source` and re-encodes it, resampled, in the given format."""
    layout = "stereo" if channels == 2 else "mono"
    with av.open(source) as inp, av.open(target, "w", format=container) as out:
        stream = out.add_stream(codec, rate=rate, layout=layout)
        if codec == "vorbis":
            stream.codec_context.options = {"strict": "experimental"}
        resampler = av.AudioResampler(format=stream.codec_context.format.name, layout=layout, rate=rate)
        for frame in inp.decode(audio=0):
            for converted in resampler.resample(frame):
                for packet in stream.encode(converted):
                    out.mux(packet)
        for converted in resampler.resample(None):
            for packet in stream.encode(converted):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


def transcribe(client, path):
    try:
        with open(path, "rb") as f:
            return {"text": client.audio.transcriptions.create(model="whisper-1", file=f).text}
    except openai.BadRequestError as e:
        return {"status": e.status_code, "param": e.body.get("param"), "message": e.body.get("message")}


def main():
    base, wav, out_dir = sys.argv[1], sys.argv[2], sys.argv[3]
    client = OpenAI(base_url=f"{base}/v1", api_key="unused-on-loopback", max_retries=0, timeout=120)
    result = {"formats": {}}
    for name, container, codec, rate, channels in FORMATS:
        path = os.path.join(out_dir, name)
        encode(wav, path, container, codec, rate, channels)
        result["formats"][name] = {"bytes": os.path.getsize(path), **transcribe(client, path)}

    # Not audio, whatever the name says; and a real MP3 cut off mid-frame.
    fake = os.path.join(out_dir, "song.mp3")
    with open(fake, "w") as f:
        f.write("<html><body>not a song</body></html>")
    result["not_audio"] = transcribe(client, fake)
    garbled = os.path.join(out_dir, "garbled.ogg")
    with open(garbled, "wb") as f:
        f.write(b"OggS" + bytes(range(256)) * 8)
    result["garbled"] = transcribe(client, garbled)
    with open(os.path.join(out_dir, "jfk.mp3"), "rb") as f:
        whole = f.read()
    cut = os.path.join(out_dir, "cut.mp3")
    with open(cut, "wb") as f:
        f.write(whole[: len(whole) // 2 + 17])
    result["cut"] = transcribe(client, cut)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
