"""The wake word's score after every 80 ms chunk of a 16 kHz WAV, computed the
way scripts/train-wake.py computes its training inputs (its `Features`, one
whole pass over the file), for the test that holds HausKI's live detector to
the same numbers. Prints {"scores": [...]} (one per chunk, after the 2 s lead-in)."""

import importlib.util
import json
import sys
import wave
from pathlib import Path

import numpy as np
import onnxruntime as ort

root = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("train_wake", root / "scripts/train-wake.py")
train = importlib.util.module_from_spec(spec)
sys.path.insert(0, str(root / "scripts"))
spec.loader.exec_module(train)

wav_path, classifier = sys.argv[1], sys.argv[2]
with wave.open(wav_path) as w:
    assert w.getframerate() == 16000 and w.getnchannels() == 1
    audio = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float32) / 32768.0

features = train.Features(root / ".models/wakeword", threads=1)
embeddings, chunk_ends = features.embeddings(audio)
session = ort.InferenceSession(classifier)
scores = []
for i in range(len(embeddings)):
    if chunk_ends[i] <= 0:
        continue  # inside the lead-in
    window = embeddings[i - train.EMBEDDINGS + 1 : i + 1][None].astype(np.float32)
    scores.append(float(session.run(None, {"embeddings": window})[0][0, 0]))
print(json.dumps({"scores": scores}))
