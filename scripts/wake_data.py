"""Speech and sounds for training HausKI's wake word (scripts/train-wake.py).

Everything is synthesised here: espeak-ng voices (a dialect and a voice
variant, at a speed and pitch), the project's Piper voice, rooms (sox reverb),
noise, music-like tones and TV-like babble. The split of espeak-ng dialects
and variants into the ones training may use and the ones kept for the test
(tests/it/wake_word_quality.rs) lives here, so the test can name voices the
classifier never heard.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np

RATE = 16_000

# Dialects and variants training may use; the test takes its voices from the
# others (TEST_DIALECTS x TEST_VARIANTS), so no test voice shares either part
# with a training voice.
TRAIN_DIALECTS = ["en-us", "en-gb", "en-gb-x-rp", "en-gb-x-gbclan"]
TEST_DIALECTS = ["en-gb-scotland", "en-029", "en-us-nyc", "en-gb-x-gbcwmd"]
# Other languages' voices saying the English words: accents for training only
# (the test takes only English dialects), and the way a German, Dutch or
# Polish household says "hey Hauski".
TRAIN_ACCENTS = ["de", "nl", "cs", "sk", "it", "es", "fi", "pl", "hr", "da"]


def espeak_variants() -> list[str]:
    """espeak-ng's voice variants (m1, f3, klatt, ...), sorted."""
    out = subprocess.run(
        ["espeak-ng", "--voices=variant"], capture_output=True, text=True, check=True
    ).stdout
    names = []
    for line in out.splitlines()[1:]:
        parts = line.split()
        if len(parts) >= 5 and parts[4].startswith("!v/"):
            names.append(parts[4][3:])
    return sorted(set(names))


def variant_split() -> tuple[list[str], list[str]]:
    """Every third variant is kept for the test; the rest may train."""
    variants = espeak_variants()
    test = variants[1::3]
    train = [v for v in variants if v not in test]
    return train, test


def invent_variants(where: Path, n: int, rng: np.random.Generator) -> list[str]:
    """`n` voice variants that espeak-ng does not ship, written into a copy of
    its data under `where`: a vocal tract scaled as a whole (every formant
    moved together, as in a smaller or larger speaker) with each formant's
    height and width jittered, a pitch range, and now and then Klatt's
    synthesiser, flutter, roughness and breath. One Piper voice and 67
    variants are few speakers; the classifier learns the voices it hears, so
    it gets a hundred more, none of them the test's. espeak-ng lists at most
    349 voices (languages and variants together: 232 shipped besides the
    MBROLA ones, which the copy leaves out), so `n` stays near 110."""
    global _ESPEAK_PATH
    import shutil

    source = Path(
        subprocess.run(["espeak-ng", "--version"], capture_output=True, text=True, check=True)
        .stdout.rsplit("Data at:", 1)[-1].strip()
    )
    data_dir = where / "espeak-ng-data"
    if not (data_dir / "phontab").is_file():
        shutil.copytree(source, data_dir, dirs_exist_ok=True)
    # Training speaks through no MBROLA voice; their 90 entries would count.
    shutil.rmtree(data_dir / "voices" / "mb", ignore_errors=True)
    for stale in (data_dir / "voices" / "!v").glob("hauski*"):
        stale.unlink()
    names = []
    for k in range(n):
        name = f"hauski{k:03d}"
        female = rng.random() < 0.5
        scale = rng.uniform(1.02, 1.22) if female else rng.uniform(0.86, 1.04)
        low = int(rng.uniform(150, 230) if female else rng.uniform(65, 140))
        lines = ["language variant", f"name {name}", f"gender {'female' if female else 'male'}",
                 f"pitch {low} {low + int(rng.uniform(30, 130))}"]
        for f in range(9):
            freq = int(100 * scale * rng.uniform(0.93, 1.07)) if f < 7 else 100
            lines.append(f"formant {f} {freq} {int(rng.uniform(50, 150))} {int(rng.uniform(60, 160))}")
        if rng.random() < 0.3:
            lines.append(f"klatt {int(rng.integers(1, 7))}")
        lines += [f"flutter {int(rng.integers(0, 12))}", f"roughness {int(rng.integers(0, 6))}",
                  f"voicing {int(rng.uniform(40, 110))}", f"consonants {int(rng.uniform(30, 110))} {int(rng.uniform(20, 100))}"]
        if rng.random() < 0.25:
            lines.append("breath " + " ".join(str(int(rng.integers(0, 8))) for _ in range(8)))
        (data_dir / "voices" / "!v" / name).write_text("\n".join(lines) + "\n")
        names.append(name)
    _ESPEAK_PATH = where
    return names


def to_16k(wav: bytes, effects: list[str] | None = None) -> np.ndarray:
    """A WAV in any rate → 16 kHz mono float32 through sox (with effects)."""
    out = subprocess.run(
        ["sox", "-t", "wav", "-", "-r", str(RATE), "-c", "1", "-b", "16", "-e", "signed",
         "-t", "raw", "-", *(effects or [])],
        input=wav, capture_output=True, check=True,
    ).stdout
    return np.frombuffer(out, dtype="<i2").astype(np.float32) / 32768.0


# A copy of espeak-ng's data with invented voice variants (`invent_variants`);
# None until they are made, then every espeak() call reads from it.
_ESPEAK_PATH: Path | None = None


def espeak(text: str, voice: str, speed: int, pitch: int, effects: list[str] | None = None) -> np.ndarray:
    path = [f"--path={_ESPEAK_PATH}"] if _ESPEAK_PATH else []
    wav = subprocess.run(
        ["espeak-ng", *path, "-v", voice, "-s", str(speed), "-p", str(pitch), "--stdout"],
        input=text.encode(), capture_output=True, check=True,
    ).stdout
    return to_16k(wav, effects)


class Piper:
    """The project's Piper voice through piper-tts (the bench's reference)."""

    def __init__(self, model: Path):
        from piper import PiperVoice

        self.voice = PiperVoice.load(str(model))

    def say(self, text: str, length: float, noise: float, noise_w: float) -> np.ndarray:
        from piper import SynthesisConfig

        config = SynthesisConfig(length_scale=length, noise_scale=noise, noise_w_scale=noise_w)
        chunks = [c.audio_int16_array for c in self.voice.synthesize(text, syn_config=config)]
        audio = np.concatenate(chunks).astype(np.float32) / 32768.0
        rate = self.voice.config.sample_rate
        return resample(audio, rate)


def resample(audio: np.ndarray, rate: int) -> np.ndarray:
    return audio if rate == RATE else sox_raw(audio, [], rate_in=rate)


def sox_raw(audio: np.ndarray, effects: list[str], rate_in: int = RATE) -> np.ndarray:
    """`audio` at `rate_in` through sox (with `effects`), back as 16 kHz float32."""
    pcm = (np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes()
    out = subprocess.run(
        ["sox", "-t", "raw", "-r", str(rate_in), "-e", "signed", "-b", "16", "-c", "1", "-",
         "-r", str(RATE), "-t", "raw", "-", *effects],
        input=pcm, capture_output=True, check=True,
    ).stdout
    return np.frombuffer(out, dtype="<i2").astype(np.float32) / 32768.0


def room(audio: np.ndarray, reverberance: int, size: int) -> np.ndarray:
    """The clip as heard in a room (sox reverb), same length plus its tail."""
    return sox_raw(audio, ["reverb", str(reverberance), "50", str(size), "gain", "-3"])


def pink_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    white = rng.standard_normal(n)
    spectrum = np.fft.rfft(white)
    freqs = np.arange(len(spectrum))
    freqs[0] = 1
    pink = np.fft.irfft(spectrum / np.sqrt(freqs), n)
    return (pink / (np.std(pink) + 1e-9)).astype(np.float32)


def tones(seconds: float, rng: np.random.Generator) -> np.ndarray:
    """Music-like sound: a melody of notes with harmonics and a beat."""
    out = []
    while sum(len(x) for x in out) < seconds * RATE:
        note = rng.uniform(0.12, 0.6)
        f = 110 * 2 ** (rng.integers(0, 36) / 12)
        t = np.arange(int(note * RATE)) / RATE
        wave = sum((0.5 ** k) * np.sin(2 * np.pi * f * (k + 1) * t) for k in range(4))
        envelope = np.minimum(1, t * 40) * np.exp(-t * rng.uniform(1, 6))
        out.append((wave * envelope * 0.2).astype(np.float32))
    return np.concatenate(out)[: int(seconds * RATE)]


def babble(streams: list[np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """TV-like babble: several speech streams at once, the sum levelled."""
    n = min(len(s) for s in streams)
    mixed = sum(s[:n] * rng.uniform(0.4, 1.0) for s in streams)
    return (mixed / (np.max(np.abs(mixed)) + 1e-9) * 0.4).astype(np.float32)


def level(audio: np.ndarray, dbfs: float) -> np.ndarray:
    rms = np.sqrt(np.mean(audio**2)) + 1e-9
    return (audio * (10 ** (dbfs / 20) / rms)).astype(np.float32)


def _loud_frames(audio: np.ndarray) -> np.ndarray:
    """Indices of the 10 ms frames within 30 dB of the loudest."""
    frames = audio[: len(audio) // 160 * 160].reshape(-1, 160)
    energy = 10 * np.log10(np.mean(frames**2, axis=1) + 1e-12)
    return np.nonzero(energy > energy.max() - 30)[0]


def word_end(audio: np.ndarray) -> int:
    """The sample after the last loud 10 ms frame (within 30 dB of the peak frame)."""
    loud = _loud_frames(audio)
    return int((loud[-1] + 1) * 160) if len(loud) else len(audio)


def trim(audio: np.ndarray) -> np.ndarray:
    """Without the leading and trailing silence espeak-ng and Piper add."""
    loud = _loud_frames(audio)
    if len(loud) == 0:
        return audio
    return audio[loud[0] * 160 : (loud[-1] + 1) * 160]


def _sentences(text: str) -> list[str]:
    found = []
    for sentence in re.split(r"(?<=[.!?])\s+", re.sub(r"\s+", " ", text)):
        words = sentence.split()
        if 4 <= len(words) <= 22 and all(re.fullmatch(r"[A-Za-z,;:'.!?-]+", w) for w in words):
            found.append(sentence)
    return found


def sentences_from_docs(limit: int) -> list[str]:
    """English sentences from the machine's own documentation (licences,
    READMEs, Python's reference) and everyday talk (`everyday_talk`)."""
    from pydoc_data.topics import topics

    files = sorted(Path("/usr/share/common-licenses").glob("*")) + sorted(
        Path("/usr/share/doc").glob("*/README*")
    )
    found: list[str] = _sentences(" ".join(topics.values()))
    for file in files:
        if not file.is_file() or file.suffix in (".gz", ".html"):
            continue
        try:
            found += _sentences(file.read_text(errors="ignore"))
        except OSError:
            continue
    talk = everyday_talk(limit // 2)
    docs = found[: limit - len(talk)]
    mixed = [s for pair in zip(talk, docs) for s in pair] + talk[len(docs):] + docs[len(talk):]
    return mixed[:limit]


def everyday_talk(n: int, seed: int = 11) -> list[str]:
    """Household talk from templates, heavy with greetings and sounds near
    the wake word ("hey", "how", "house", "ski", "husky"), none of them it."""
    rng = np.random.default_rng(seed)
    openers = ["Hey", "Hey there", "Oh hey", "Hi", "Hello", "Okay", "So", "Well", "Listen", "Look", "Hey you", "Ah"]
    names = ["Harry", "Haskell", "Cassie", "Ozzy", "Howard", "Hannah", "Oskar", "Heidi", "Josie", "Hugo",
             "mum", "dad", "honey", "buddy", "guys", "everyone", "Auntie", "Husky", "Lucky", "Rosie"]
    asks = [
        "how was your day", "how is it going", "how's school", "how did the ski trip go", "how much is that",
        "have you seen the house keys", "who's skiing this year", "did you feed the husky", "how about pasta tonight",
        "could you help me with the shopping", "what time is the bus", "is the house warm enough", "how's the new job",
        "are you coming to dinner", "where are my skis", "what is for lunch", "who is at the door", "how far is it",
        "can you turn the music down", "did you call the plumber", "how old is your cousin", "is it raining outside",
    ]
    statements = [
        "the house is quiet today", "we should go skiing in March", "our husky loves the snow", "the kettle is on",
        "I left the keys by the door", "the kids are asleep", "dinner will be ready soon", "the heating is broken again",
        "my sister bought a house in the hills", "the ski lift was closed", "the dog needs a walk", "the bread is stale",
        "how strange that is", "that's how it goes", "he asked how much it costs", "house prices are rising",
        "the Hausa language is spoken in Nigeria", "how's key to this is patience", "who's got the house keys",
    ]
    out = []
    for _ in range(n):
        kind = rng.integers(0, 4)
        if kind == 0:
            out.append(f"{rng.choice(openers)} {rng.choice(names)}, {rng.choice(asks)}?")
        elif kind == 1:
            out.append(f"{rng.choice(openers)}, {rng.choice(asks)}?")
        elif kind == 2:
            out.append(f"{rng.choice(openers)}, {rng.choice(statements)}.")
        else:
            out.append(f"{str(rng.choice(statements)).capitalize()}, {rng.choice(asks)}?")
    return out
