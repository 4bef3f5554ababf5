#!/usr/bin/env python3
"""Trains HausKI's wake word "hey hauski": a small classifier over
openWakeWord's frozen speech embeddings (scripts/fetch-wake-features.sh),
written as assets/wakeword/hey-hauski.onnx for hauski-voice's detector.

Positives are "hey hauski" in synthesised voices (espeak-ng dialects and
variants from wake_data.TRAIN_*, the Piper voice at many paces and pitches),
placed in rooms, noise, babble and music. Negatives are hours of other speech
(sentences from the machine's documentation, near-misses such as "hey husky"),
noise, music-like tones and babble, and the unfinished word itself. The
features are computed exactly as the Rust detector computes them live (see
`Features`), so the classifier sees in training what it sees in use.

    .venv/bin/python scripts/train-wake.py            # about 15 minutes on 2 cores
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort

sys.path.insert(0, str(Path(__file__).parent))
import wake_data as data  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CHUNK = 1280  # 80 ms: one embedding per chunk
CONTEXT = 480  # samples of the previous chunk the mel model needs
WINDOW_MELS = 76
EMBEDDINGS = 16
LEAD_IN = 2 * data.RATE  # the detector starts as if after 2 s of silence

# A window is positive when its chunk ends this long after the word's end (ms).
POSITIVE_AFTER_MS = (40, 360)
# ...and negative when it ends this long before it: the word is unfinished.
UNFINISHED_BEFORE_MS = 300


class Features:
    """openWakeWord's features as the Rust detector makes them: the mel model
    on each 80 ms chunk with 480 samples before it (8 frames, int16 scale,
    x/10 + 2), one embedding of the last 76 frames per chunk."""

    def __init__(self, models: Path, threads: int):
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self.mel = ort.InferenceSession(str(models / "melspectrogram.onnx"), options)
        self.embed = ort.InferenceSession(str(models / "embedding_model.onnx"), options)

    def mels(self, audio: np.ndarray) -> np.ndarray:
        """Mel frames of a stream that starts after LEAD_IN of silence, one
        chunk at a time: the model clamps to 80 dB below the loudest frame of
        each call (and of each batch), so only chunk-sized calls match the
        live detector's."""
        stream = np.concatenate([np.zeros(LEAD_IN + CONTEXT, np.float32), audio]) * 32768.0
        chunks = (len(stream) - CONTEXT) // CHUNK
        out = np.empty((chunks * 8, 32), np.float32)
        for t in range(chunks):
            part = stream[None, t * CHUNK : t * CHUNK + CHUNK + CONTEXT]
            out[t * 8 : t * 8 + 8] = self.mel.run(None, {"input": part})[0][0, 0]
        return out / 10.0 + 2.0

    def embeddings(self, audio: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One embedding per chunk whose window is full, and the chunk's end
        in samples of `audio` (negative inside the lead-in)."""
        mels = self.mels(audio)
        ends = np.arange(WINDOW_MELS // 8 + 1, len(mels) // 8 + 1) * 8
        windows = np.stack([mels[e - WINDOW_MELS : e] for e in ends])[..., None]
        out = []
        for start in range(0, len(windows), 256):
            out.append(self.embed.run(None, {"input_1": windows[start : start + 256]})[0][:, 0, 0, :])
        chunk_ends = ends // 8 * CHUNK - LEAD_IN
        return np.concatenate(out), chunk_ends


def sequences(emb: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """The classifier's inputs: the 16 embeddings ending at each kept index."""
    idx = np.nonzero(keep)[0]
    idx = idx[idx >= EMBEDDINGS - 1]
    return np.stack([emb[i - EMBEDDINGS + 1 : i + 1] for i in idx]) if len(idx) else np.zeros((0, EMBEDDINGS, 96), np.float32)


# --- the sounds ------------------------------------------------------------------------

# Other spellings that make espeak-ng say the word as people do: it reads
# "hauski" as HAW-ski, a German speaker says HOW-ski.
SPELLINGS = {"hey hauski": ["hey howski", "hey houskee", "hey, howski"]}


def wake_texts(phrase: str) -> list[str]:
    """The phrase as a synthesiser may be handed it: plain, with a comma,
    capitalised, and spelled as it is said."""
    first, _, rest = phrase.partition(" ")
    plain = [phrase, phrase, f"{first}, {rest}" if rest else phrase, phrase.title() + ".", phrase + "!"]
    return plain + SPELLINGS.get(phrase, [])
NEAR_MISSES = [
    "hey", "hey there", "hey you", "hey house", "hey husky", "hey Siri", "hey Google", "hey Alexa",
    "hey Cassie", "hey Haskell", "house key", "how's ski", "hey, how's it going", "hey, how is it",
    "hey Lucky", "hey hockey", "hey husband", "hey Aussie", "hey hostess", "okay house", "hey Hausa",
    "hey Rosie", "hey Josie", "hey auntie", "hauling skis", "a husky", "hey Jesse", "hey mister",
    "how is he", "hey, house guest", "hey Harry", "hey Heidi", "hey Haley", "hey Ozzy", "hey kitchen",
    "Hauser", "hey houses", "the Hawks skied", "hey how was school", "oh hi Skye",
]


def background(n: int, rng: np.random.Generator, speech: list[np.ndarray]) -> np.ndarray:
    kind = rng.choice(["silence", "noise", "babble", "music"], p=[0.25, 0.25, 0.35, 0.15])
    if kind == "silence":
        return (rng.standard_normal(n) * 10 ** (rng.uniform(-90, -60) / 20)).astype(np.float32)
    if kind == "noise":
        return data.level(data.pink_noise(n, rng) if rng.random() < 0.6 else rng.standard_normal(n).astype(np.float32), rng.uniform(-55, -35))
    if kind == "babble":
        streams = [np.resize(speech[rng.integers(len(speech))], n) for _ in range(rng.integers(2, 6))]
        return data.level(data.babble(streams, rng), rng.uniform(-45, -26))
    return data.level(data.tones(n / data.RATE + 0.01, rng)[:n], rng.uniform(-50, -35))


def placed(word: np.ndarray, rng: np.random.Generator, speech: list[np.ndarray]) -> tuple[np.ndarray, int]:
    """The word in a room with something behind it; where it ends."""
    word = data.trim(word)
    if rng.random() < 0.4:
        word = data.room(word, int(rng.integers(20, 80)), int(rng.integers(20, 90)))
    word = data.level(word, rng.uniform(-30, -14))
    before = int(rng.uniform(0.3, 2.5) * data.RATE)
    after = int(rng.uniform(0.5, 1.0) * data.RATE)
    end = before + data.word_end(word)
    bed = background(before + len(word) + after, rng, speech)
    audio = bed.copy()
    audio[before : before + len(word)] += word
    return np.clip(audio, -1, 1), end


def wake_voices(rng: np.random.Generator, variants: list[str], piper: data.Piper, n: int, texts: list[str]) -> list[np.ndarray]:
    words = []
    for i in range(n):
        if i % 6 == 5:
            sample = piper.say(str(rng.choice(texts)), rng.uniform(0.75, 1.4), rng.uniform(0.3, 1.0), rng.uniform(0.4, 1.2))
            cents = int(rng.integers(-400, 300))
            words.append(data.resample(sample, data.RATE) if cents == 0 else shifted(sample, cents))
        else:
            voice = rng.choice(data.TRAIN_ACCENTS if rng.random() < 0.3 else data.TRAIN_DIALECTS)
            variant = rng.choice(variants + [""] * 4)
            name = f"{voice}+{variant}" if variant else voice
            words.append(data.espeak(str(rng.choice(texts)), name, int(rng.integers(110, 215)), int(rng.integers(15, 95))))
    return words


def shifted(audio: np.ndarray, cents: int) -> np.ndarray:
    return data.sox_raw(audio, ["pitch", str(cents)])


def other_speech(rng: np.random.Generator, variants: list[str], piper: data.Piper, texts: list[str], piper_every: int) -> list[np.ndarray]:
    clips = []
    for i, text in enumerate(texts):
        if i % piper_every == 0:
            # Piper re-pitched: the nearest this machine has to many human voices.
            said = piper.say(text, rng.uniform(0.8, 1.3), rng.uniform(0.4, 0.9), 0.8)
            cents = int(rng.integers(-500, 400))
            clips.append(shifted(said, cents) if abs(cents) > 50 else said)
        else:
            voice = rng.choice(data.TRAIN_ACCENTS if rng.random() < 0.2 else data.TRAIN_DIALECTS)
            variant = rng.choice(variants + [""] * 4)
            clips.append(data.espeak(text, f"{voice}+{variant}" if variant else voice, int(rng.integers(120, 210)), int(rng.integers(20, 90))))
    return clips


def negative_stream(clips: list[np.ndarray], rng: np.random.Generator, minutes_of_sounds: float) -> np.ndarray:
    """Speech clips with pauses, some in rooms or noise, then noise, tones and babble."""
    parts = []
    for clip in clips:
        if rng.random() < 0.25:
            clip = data.room(clip, int(rng.integers(20, 80)), int(rng.integers(20, 90)))
        clip = data.level(clip, rng.uniform(-32, -14))
        if rng.random() < 0.3:
            clip = np.clip(clip + background(len(clip), rng, clips[:50]), -1, 1)
        parts += [clip, background(int(rng.uniform(0.1, 1.2) * data.RATE), rng, clips[:50])]
    rest = int(minutes_of_sounds * 60 * data.RATE)
    while rest > 0:
        n = int(min(rest, rng.uniform(5, 30) * data.RATE))
        kind = rng.choice(["music", "babble", "noise"])
        if kind == "music":
            parts.append(data.level(data.tones(n / data.RATE, rng), rng.uniform(-35, -15)))
        elif kind == "babble":
            streams = [np.resize(clips[rng.integers(len(clips))], n) for _ in range(rng.integers(3, 6))]
            parts.append(data.level(data.babble(streams, rng), rng.uniform(-35, -18)))
        else:
            parts.append(data.level(data.pink_noise(n, rng), rng.uniform(-45, -25)))
        rest -= n
    return np.concatenate(parts).astype(np.float32)


# --- the classifier ------------------------------------------------------------------

class Mlp:
    """16 x 96 embeddings → 64 → 64 → 1, trained with Adam on weighted cross-entropy."""

    def __init__(self, rng: np.random.Generator, hidden: int = 64):
        sizes = [EMBEDDINGS * 96, hidden, hidden, 1]
        self.w = [(rng.standard_normal((a, b)) * np.sqrt(2 / a)).astype(np.float32) for a, b in zip(sizes, sizes[1:])]
        self.b = [np.zeros(b, np.float32) for b in sizes[1:]]

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
        acts = [x.reshape(len(x), -1)]
        for i, (w, b) in enumerate(zip(self.w, self.b)):
            z = acts[-1] @ w + b
            acts.append(np.maximum(z, 0) if i < len(self.w) - 1 else z)
        return acts[-1][:, 0], acts

    def score(self, x: np.ndarray) -> np.ndarray:
        out = []
        for start in range(0, len(x), 4096):
            logits, _ = self.forward(x[start : start + 4096])
            out.append(1 / (1 + np.exp(-np.clip(logits, -50, 50))))
        return np.concatenate(out) if out else np.zeros(0)

    def train(self, x: np.ndarray, y: np.ndarray, weight: np.ndarray, epochs: int, rng: np.random.Generator, decay: float) -> None:
        params = self.w + self.b
        m = [np.zeros_like(p) for p in params]
        v = [np.zeros_like(p) for p in params]
        step = 0
        for epoch in range(epochs):
            order = rng.permutation(len(x))
            lr = 1e-3 * (0.5 ** (epoch // 6))
            total = 0.0
            for start in range(0, len(x), 512):
                idx = order[start : start + 512]
                xb, yb, wb = x[idx], y[idx], weight[idx]
                logits, acts = self.forward(xb)
                p = 1 / (1 + np.exp(-np.clip(logits, -50, 50)))
                total += float(np.sum(wb * -(yb * np.log(p + 1e-7) + (1 - yb) * np.log(1 - p + 1e-7))))
                grad = (wb * (p - yb) / len(idx))[:, None].astype(np.float32)
                grads_w, grads_b = [], []
                for i in reversed(range(len(self.w))):
                    grads_w.insert(0, acts[i].T @ grad + decay * self.w[i])
                    grads_b.insert(0, grad.sum(axis=0))
                    if i > 0:
                        grad = (grad @ self.w[i].T) * (acts[i] > 0)
                step += 1
                for j, (p_, g) in enumerate(zip(params, grads_w + grads_b)):
                    m[j] = 0.9 * m[j] + 0.1 * g
                    v[j] = 0.999 * v[j] + 0.001 * g * g
                    p_ -= lr * (m[j] / (1 - 0.9**step)) / (np.sqrt(v[j] / (1 - 0.999**step)) + 1e-8)
            print(f"    epoch {epoch + 1}/{epochs}: loss {total / len(x):.5f}", flush=True)

    def graph_nodes(self, prefix: str, flat: str, out: str) -> tuple[list, list]:
        """This network as ONNX nodes from the flattened input `flat` to the score `out`."""
        from onnx import helper, numpy_helper

        nodes, inits = [], []
        x = flat
        for i, (w, b) in enumerate(zip(self.w, self.b)):
            inits += [numpy_helper.from_array(w, f"{prefix}w{i}"), numpy_helper.from_array(b, f"{prefix}b{i}")]
            nodes.append(helper.make_node("Gemm", [x, f"{prefix}w{i}", f"{prefix}b{i}"], [f"{prefix}z{i}"]))
            last = i == len(self.w) - 1
            x = out if last else f"{prefix}x{i + 1}"
            nodes.append(helper.make_node("Sigmoid" if last else "Relu", [f"{prefix}z{i}"], [x]))
        return nodes, inits


class Ensemble:
    """Networks trained alike from different starting points, their scores
    averaged in one graph (the detector loads one ONNX file per wake word).
    One network's detections of unseen voices swing from 19 to 34 of 48
    between starting points on the same features (ARCHITECTURE.md)."""

    def __init__(self, members: list[Mlp]):
        self.members = members

    def score(self, x: np.ndarray) -> np.ndarray:
        return np.mean([m.score(x) for m in self.members], axis=0)

    def export(self, path: Path, metadata: dict) -> None:
        import onnx
        from onnx import TensorProto, helper, numpy_helper

        nodes = [helper.make_node("Flatten", ["embeddings"], ["flat"], axis=1)]
        inits = [numpy_helper.from_array(np.array(1 / len(self.members), np.float32), "share")]
        for k, member in enumerate(self.members):
            more_nodes, more_inits = member.graph_nodes(f"m{k}_", "flat", f"s{k}")
            nodes += more_nodes
            inits += more_inits
        nodes.append(helper.make_node("Sum", [f"s{k}" for k in range(len(self.members))], ["total"]))
        nodes.append(helper.make_node("Mul", ["total", "share"], ["score"]))
        graph = helper.make_graph(
            nodes, "hey_hauski",
            [helper.make_tensor_value_info("embeddings", TensorProto.FLOAT, ["n", EMBEDDINGS, 96])],
            [helper.make_tensor_value_info("score", TensorProto.FLOAT, ["n", 1])],
            inits,
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="hauski train-wake.py")
        model.ir_version = 8
        for key, value in metadata.items():
            entry = model.metadata_props.add()
            entry.key, entry.value = key, str(value)
        onnx.checker.check_model(model)
        path.write_bytes(model.SerializeToString())


# --- putting it together ---------------------------------------------------------------

def labelled(features: Features, clips: list[tuple[np.ndarray, int]]) -> tuple[np.ndarray, np.ndarray]:
    """Positive and unfinished-word windows from placed wake words."""
    pos, neg = [], []
    for audio, end in clips:
        emb, chunk_ends = features.embeddings(audio)
        after_ms = (chunk_ends - end) * 1000 / data.RATE
        pos.append(sequences(emb, (after_ms >= POSITIVE_AFTER_MS[0]) & (after_ms <= POSITIVE_AFTER_MS[1])))
        neg.append(sequences(emb, (after_ms < -UNFINISHED_BEFORE_MS) & (chunk_ends > 0)))
    return np.concatenate(pos), np.concatenate(neg)


def stream_windows(features: Features, audio: np.ndarray, every: int) -> np.ndarray:
    emb, _ = features.embeddings(audio)
    keep = np.zeros(len(emb), bool)
    keep[::every] = True
    return sequences(emb, keep)

PEAK_WINDOWS = 10


def synthesise(args, rng, features, train_variants):
    """Every sound, made and turned into the classifier's inputs."""
    piper = data.Piper(args.piper)
    if args.invented_voices:
        train_variants = train_variants + data.invent_variants(args.cache / "espeak", args.invented_voices, rng)
    print(f"==> voices: {len(data.TRAIN_DIALECTS)} dialects and {len(data.TRAIN_ACCENTS)} accents x {len(train_variants)} variants, and Piper", flush=True)
    texts = data.sentences_from_docs(args.sentences)
    held_out_texts = texts[::10]
    train_texts = [t for i, t in enumerate(texts) if i % 10] + NEAR_MISSES * 6
    rng.shuffle(train_texts)
    print(f"==> other speech: {len(train_texts)} training sentences, {len(held_out_texts)} held out", flush=True)
    speech = other_speech(rng, train_variants, piper, train_texts, piper_every=4)
    held_out = other_speech(rng, train_variants, piper, held_out_texts, piper_every=4)

    print(f"==> {args.positives} wake words", flush=True)
    words = wake_voices(rng, train_variants, piper, args.positives, wake_texts(args.phrase))
    val_words = words[: len(words) // 10]
    train_words = words[len(words) // 10 :]

    print("==> features", flush=True)
    pos, unfinished = labelled(features, [placed(w, rng, speech) for w in train_words])
    neg = stream_windows(features, negative_stream(speech, rng, 25), every=1)
    print(f"    {len(pos)} positive windows, {len(unfinished)} unfinished words, {len(neg)} other", flush=True)
    x = np.concatenate([pos, unfinished, neg]).astype(np.float32)
    y = np.concatenate([np.ones(len(pos)), np.zeros(len(unfinished) + len(neg))]).astype(np.float32)
    weight = np.concatenate([np.ones(len(pos)), np.full(len(unfinished), 0.5), np.ones(len(neg))]).astype(np.float32)

    val_stream = negative_stream(held_out, rng, 5)
    val_neg_x = stream_windows(features, val_stream, every=1)
    val_peaks_x = []
    for audio, end in [placed(w, rng, speech) for w in val_words]:
        emb, chunk_ends = features.embeddings(audio)
        after_ms = (chunk_ends - end) * 1000 / data.RATE
        near = sequences(emb, after_ms > -200)[:PEAK_WINDOWS]
        val_peaks_x.append(np.resize(near, (PEAK_WINDOWS, EMBEDDINGS, 96)))
    return x, y, weight, val_neg_x, np.stack(val_peaks_x), len(val_stream) / data.RATE / 3600


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--phrase", default="hey hauski", help="the wake word (NEAR_MISSES are written for \"hey hauski\")")
    parser.add_argument("--out", type=Path, default=ROOT / "assets/wakeword/hey-hauski.onnx")
    parser.add_argument("--features", type=Path, default=ROOT / ".models/wakeword")
    parser.add_argument("--piper", type=Path, default=ROOT.parent / "shared/models/tts/en_US-joe-medium/en_US-joe-medium.onnx")
    parser.add_argument("--positives", type=int, default=3600)
    parser.add_argument("--sentences", type=int, default=3200)
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--negative-weight", type=float, default=5.0, help="weight of a negative window against a positive")
    parser.add_argument("--also", type=Path, nargs="*", default=[], help="more cached feature sets (other seeds or sizes) to train on")
    parser.add_argument("--weight-decay", type=float, default=1e-3)
    parser.add_argument("--invented-voices", type=int, default=0, help="espeak-ng voice variants to invent for training (wake_data.invent_variants); tried with 110, see ARCHITECTURE.md")
    parser.add_argument("--ensemble", type=int, default=1, help="networks trained from different starting points, their scores averaged in one ONNX graph")
    parser.add_argument("--cache", type=Path, default=ROOT / "target/wake-train", help="where synthesised features are kept between runs")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    started = time.time()
    features = Features(args.features, args.threads)
    train_variants, _ = data.variant_split()

    invented = f"-invented{args.invented_voices}" if args.invented_voices else ""
    cache = args.cache / f"features-{args.phrase.replace(' ', '-')}-{args.seed}-{args.positives}-{args.sentences}{invented}.npz"
    if cache.is_file():
        print(f"==> features from {cache} (delete it to synthesise again)", flush=True)
        saved = np.load(cache)
        x, y, weight, val_neg_x, val_peaks_x, val_hours = (saved[k] for k in ("x", "y", "weight", "val_neg_x", "val_peaks_x", "val_hours"))
    else:
        x, y, weight, val_neg_x, val_peaks_x, val_hours = synthesise(args, rng, features, train_variants)
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cache, x=x, y=y, weight=weight, val_neg_x=val_neg_x, val_peaks_x=val_peaks_x, val_hours=val_hours)
    for extra in args.also:
        print(f"==> also the features of {extra}", flush=True)
        more = np.load(extra)
        x, y, weight = (np.concatenate([a, more[k]]) for a, k in ((x, "x"), (y, "y"), (weight, "weight")))

    print("==> training", flush=True)
    weighted = weight * np.where(y > 0, 1.0, args.negative_weight).astype(np.float32)
    members = []
    for k in range(args.ensemble):
        print(f"  network {k + 1} of {args.ensemble}", flush=True)
        member = Mlp(rng)
        member.train(x, y, weighted, args.epochs, rng, args.weight_decay)
        members.append(member)
    model = Ensemble(members)

    print("==> held out", flush=True)
    val_neg = model.score(val_neg_x)
    hours = float(val_hours)
    # Each held-out wake word's best score near its end (windows in groups of PEAK_WINDOWS).
    peaks = model.score(val_peaks_x.reshape(-1, EMBEDDINGS, 96)).reshape(-1, PEAK_WINDOWS).max(axis=1)
    report = {}
    for threshold in (0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99):
        report[threshold] = {
            "detection": float(np.mean(peaks >= threshold)),
            "windows_over_per_hour": float(np.sum(val_neg >= threshold) / hours),
        }
        print(f"    threshold {threshold}: detection {report[threshold]['detection']:.3f} of {len(peaks)}, "
              f"windows over it per hour of other sound {report[threshold]['windows_over_per_hour']:.2f} ({hours * 60:.0f} min)")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    model.export(args.out, {
        "phrase": args.phrase,
        "trained_by": "scripts/train-wake.py",
        "command": " ".join(sys.argv[1:]),
        "seed": args.seed,
        "ensemble": args.ensemble,
        "train_dialects": ",".join(data.TRAIN_DIALECTS),
        "train_variants": ",".join(train_variants),
        "held_out": json.dumps(report),
    })
    # What it was trained on, for the test to choose voices it never heard.
    args.out.with_suffix(".json").write_text(json.dumps({
        "phrase": args.phrase,
        "trained_by": "scripts/train-wake.py",
        "command": " ".join(sys.argv[1:]),
        "seed": args.seed,
        "ensemble": args.ensemble,
        "positives": args.positives,
        "train_dialects": data.TRAIN_DIALECTS,
        "train_accents": data.TRAIN_ACCENTS,
        "train_variants": train_variants,
        "piper": args.piper.name,
        "held_out": report,
    }, indent=2) + "\n")
    print(f"==> wrote {args.out} in {time.time() - started:.0f} s")


if __name__ == "__main__":
    main()
