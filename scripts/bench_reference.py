"""Reference timings for `hauski bench`: whisper.cpp through pywhispercpp and
Piper through piper-tts, on the same models, inputs and thread count.

Prints one JSON object on stdout. Called by `hauski bench`; not a test.
"""

import argparse
import json
import statistics
import time
import wave
from pathlib import Path

import numpy as np


def median_time(fn, runs):
    fn()  # warm-up, as HausKI's bench does
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def asr(whisper: Path, audio: Path, threads: int, runs: int) -> dict:
    from pywhispercpp.model import Model

    with wave.open(str(audio)) as w:
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).astype(np.float32) / 32768.0
    model = Model(
        str(whisper),
        n_threads=threads,
        redirect_whispercpp_logs_to=None,
        print_progress=False,
        print_realtime=False,
        language="en",
    )
    text = []
    seconds = median_time(lambda: text.append(" ".join(s.text for s in model.transcribe(pcm))), runs)
    audio_s = len(pcm) / 16000
    return {"seconds": seconds, "rtf": seconds / audio_s, "audio_s": audio_s, "text": text[-1].strip()}


def tts(voice_path: Path, runs: int, text: str) -> dict:
    from piper import PiperVoice

    voice = PiperVoice.load(str(voice_path))

    def once():
        start = time.perf_counter()
        first = None
        samples = 0
        rate = 22050
        for chunk in voice.synthesize(text):
            if first is None:
                first = time.perf_counter() - start
            samples += len(chunk.audio_int16_array)
            rate = chunk.sample_rate
        return first, time.perf_counter() - start, samples / rate

    once()
    results = [once() for _ in range(runs)]
    first = statistics.median(r[0] for r in results)
    total = statistics.median(r[1] for r in results)
    audio_s = statistics.median(r[2] for r in results)
    return {"first_audio_ms": first * 1000, "seconds": total, "audio_s": audio_s, "rtf": total / audio_s}


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--whisper", type=Path, required=True)
    parser.add_argument("--audio", type=Path, required=True, help="16 kHz mono 16-bit WAV")
    parser.add_argument("--voice", type=Path, required=True)
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--text", required=True)
    args = parser.parse_args()
    import pywhispercpp
    import piper
    from importlib.metadata import version

    out = {
        "asr": asr(args.whisper, args.audio, args.threads, args.runs) | {"impl": f"pywhispercpp {version('pywhispercpp')}"},
        "tts": tts(args.voice, args.runs, args.text) | {"impl": f"piper-tts {version('piper-tts')}"},
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
