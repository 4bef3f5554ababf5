#!/usr/bin/env python3
"""Writes all-MiniLM-L6-v2 as an ONNX graph from its safetensors, without torch.

Only the safetensors are shipped (and the usual export goes through torch, which
this machine's registries make impractical), so the graph is written node by
node with `onnx.helper`: BERT's embeddings, six encoder layers, mean pooling over
the attention mask and L2 normalisation, exactly what `hauski_brain::Embedder`
computes on candle. ONNX Runtime then fuses it (LayerNorm, Gelu, attention) when
the session loads.

Inputs: `input_ids` and `attention_mask` (int64, batch × tokens); output:
`embedding` (float32, batch × 384, unit length). Token type ids are all zero for
single sentences, so the type embedding is folded into the position embedding.

Usage: export-minilm-onnx.py MODEL_DIR OUT.onnx [--int8] [--check]
  --int8   quantises the encoder's weight products to int8 (ONNX Runtime's quantiser);
           what scripts/export-embedder.sh ships.
  --check  compares the graph's output with a numpy forward pass of the same weights
           (for --int8, the fp32 graph first, then the int8 one).
"""

import json
import struct
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def read_safetensors(path):
    data = Path(path).read_bytes()
    (header_len,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + header_len])
    body = data[8 + header_len :]
    dtypes = {"F16": np.float16, "F32": np.float32, "I64": np.int64}
    tensors = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        start, end = meta["data_offsets"]
        array = np.frombuffer(body[start:end], dtype=dtypes[meta["dtype"]]).reshape(meta["shape"])
        tensors[name] = array.astype(np.float32) if array.dtype == np.float16 else array
    return tensors


class Graph:
    """Collects nodes and initializers; names come from a counter."""

    def __init__(self):
        self.nodes, self.inits, self.count = [], [], 0

    def const(self, array, name=None):
        name = name or f"c{len(self.inits)}"
        self.inits.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def op(self, op_type, inputs, **attrs):
        self.count += 1
        out = f"{op_type.lower()}_{self.count}"
        # Named after its output, so the quantiser can be told which nodes to take.
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=out, **attrs))
        return out


def linear(g, x, w, name):
    # torch Linear stores [out, in]; MatMul wants [in, out].
    y = g.op("MatMul", [x, g.const(w[f"{name}.weight"].T.copy(), f"{name}.weight")])
    return g.op("Add", [y, g.const(w[f"{name}.bias"], f"{name}.bias")])


def layer_norm(g, x, w, name, eps):
    return g.op(
        "LayerNormalization",
        [x, g.const(w[f"{name}.weight"], f"{name}.weight"), g.const(w[f"{name}.bias"], f"{name}.bias")],
        axis=-1,
        epsilon=eps,
    )


def gelu(g, x):
    # BERT's exact gelu: 0.5 · x · (1 + erf(x / √2)); ONNX Runtime fuses the pattern.
    scaled = g.op("Div", [x, g.const(np.float32(np.sqrt(2.0)))])
    inner = g.op("Add", [g.op("Erf", [scaled]), g.const(np.float32(1.0))])
    return g.op("Mul", [g.op("Mul", [x, inner]), g.const(np.float32(0.5))])


def encoder_layer(g, x, mask_bias, w, i, cfg):
    heads = cfg["num_attention_heads"]
    head_dim = cfg["hidden_size"] // heads
    prefix = f"encoder.layer.{i}"
    split = g.const(np.array([0, 0, heads, head_dim], dtype=np.int64))

    def heads_of(name, perm):
        projected = linear(g, x, w, f"{prefix}.attention.self.{name}")
        return g.op("Transpose", [g.op("Reshape", [projected, split])], perm=perm)

    q = heads_of("query", [0, 2, 1, 3])
    k = heads_of("key", [0, 2, 3, 1])
    v = heads_of("value", [0, 2, 1, 3])
    scores = g.op("Mul", [g.op("MatMul", [q, k]), g.const(np.float32(1.0 / np.sqrt(head_dim)))])
    probs = g.op("Softmax", [g.op("Add", [scores, mask_bias])], axis=-1)
    context = g.op("Transpose", [g.op("MatMul", [probs, v])], perm=[0, 2, 1, 3])
    merged = g.op("Reshape", [context, g.const(np.array([0, 0, cfg["hidden_size"]], dtype=np.int64))])
    attended = linear(g, merged, w, f"{prefix}.attention.output.dense")
    eps = cfg["layer_norm_eps"]
    x = layer_norm(g, g.op("Add", [attended, x]), w, f"{prefix}.attention.output.LayerNorm", eps)
    hidden = gelu(g, linear(g, x, w, f"{prefix}.intermediate.dense"))
    out = linear(g, hidden, w, f"{prefix}.output.dense")
    return layer_norm(g, g.op("Add", [out, x]), w, f"{prefix}.output.LayerNorm", eps)


def build(model_dir):
    cfg = json.loads((model_dir / "config.json").read_text())
    w = read_safetensors(model_dir / "model.safetensors")
    g = Graph()
    # Embeddings: words + positions (+ the type-0 embedding, folded in).
    words = g.op("Gather", [g.const(w["embeddings.word_embeddings.weight"], "word_embeddings"), "input_ids"], axis=0)
    positions = w["embeddings.position_embeddings.weight"] + w["embeddings.token_type_embeddings.weight"][0]
    tokens = g.op("Shape", ["input_ids"], start=1, end=2)
    zero, one = g.const(np.array([0], dtype=np.int64)), g.const(np.array([1], dtype=np.int64))
    position_rows = g.op("Slice", [g.const(positions, "position_embeddings"), zero, tokens, zero, one])
    x = layer_norm(g, g.op("Add", [words, position_rows]), w, "embeddings.LayerNorm", cfg["layer_norm_eps"])

    # Attention bias: 0 for real tokens, a large negative number for padding, shaped [B, 1, 1, T].
    mask = g.op("Cast", ["attention_mask"], to=TensorProto.FLOAT)
    mask4 = g.op("Unsqueeze", [mask, g.const(np.array([1, 2], dtype=np.int64))])
    mask_bias = g.op("Mul", [g.op("Sub", [g.const(np.float32(1.0)), mask4]), g.const(np.float32(-10000.0))])
    for i in range(cfg["num_hidden_layers"]):
        x = encoder_layer(g, x, mask_bias, w, i, cfg)

    # Mean over real tokens, then unit length.
    mask3 = g.op("Unsqueeze", [mask, g.const(np.array([2], dtype=np.int64))])
    summed = g.op("ReduceSum", [g.op("Mul", [x, mask3]), one], keepdims=0)
    counts = g.op("ReduceSum", [mask, one], keepdims=1)
    mean = g.op("Div", [summed, counts])
    norm = g.op("ReduceL2", [mean, one], keepdims=1)
    g.nodes.append(helper.make_node("Div", [mean, norm], ["embedding"]))

    graph = helper.make_graph(
        g.nodes,
        "all-MiniLM-L6-v2",
        [
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "tokens"]),
            helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "tokens"]),
        ],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", cfg["hidden_size"]])],
        g.inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)], producer_name="hauski")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model, w, cfg


def numpy_forward(w, cfg, ids, mask):
    """The same model in plain numpy, as an independent check of the graph."""

    def ln(x, name):
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + cfg["layer_norm_eps"]) * w[f"{name}.weight"] + w[f"{name}.bias"]

    def lin(x, name):
        return x @ w[f"{name}.weight"].T + w[f"{name}.bias"]

    from math import erf

    verf = np.vectorize(erf)
    b, t = ids.shape
    heads = cfg["num_attention_heads"]
    d = cfg["hidden_size"] // heads
    x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:t]
    x = ln(x + w["embeddings.token_type_embeddings.weight"][0], "embeddings.LayerNorm")
    bias = (1.0 - mask[:, None, None, :]) * -10000.0
    for i in range(cfg["num_hidden_layers"]):
        p = f"encoder.layer.{i}"
        split = lambda y: y.reshape(b, t, heads, d).transpose(0, 2, 1, 3)
        q, k, v = (split(lin(x, f"{p}.attention.self.{n}")) for n in ("query", "key", "value"))
        s = q @ k.transpose(0, 1, 3, 2) / np.sqrt(d) + bias
        s = np.exp(s - s.max(-1, keepdims=True))
        s /= s.sum(-1, keepdims=True)
        ctx = (s @ v).transpose(0, 2, 1, 3).reshape(b, t, heads * d)
        x = ln(lin(ctx, f"{p}.attention.output.dense") + x, f"{p}.attention.output.LayerNorm")
        h = lin(x, f"{p}.intermediate.dense")
        h = 0.5 * h * (1.0 + verf(h / np.sqrt(2.0)))
        x = ln(lin(h, f"{p}.output.dense") + x, f"{p}.output.LayerNorm")
    mean = (x * mask[:, :, None]).sum(1) / mask.sum(1, keepdims=True)
    return mean / np.linalg.norm(mean, axis=1, keepdims=True)


def check(out_path, w, cfg, int8):
    """Compares the graph with the numpy model on a few rows, one padded.

    The fp32 graph must agree to 1e-4; the int8 graph (weights quantised per
    output channel, activations per call) to a cosine of 0.98 per row, the
    difference that leaves retrieval as good as fp32's (ARCHITECTURE.md,
    "Retrieval over notes").
    """
    import onnxruntime as ort

    rng = np.random.default_rng(7)
    ids = rng.integers(1000, 30000, size=(3, 12)).astype(np.int64)
    ids[:, 0], ids[0, -1] = 101, 102
    mask = np.ones_like(ids)
    mask[1, 7:] = 0  # a padded row
    session = ort.InferenceSession(str(out_path), providers=["CPUExecutionProvider"])
    want = numpy_forward(w, cfg, ids, mask.astype(np.float32))
    if int8:
        # One row a call, as the embedder runs it.
        got = np.concatenate(
            [session.run(None, {"input_ids": ids[i : i + 1], "attention_mask": mask[i : i + 1]})[0] for i in range(3)]
        )
        worst = float((got * want).sum(axis=1).min())
        print(f"lowest cosine to the numpy forward pass (int8): {worst:.4f}")
        if worst < 0.98:
            sys.exit(f"the int8 graph strays from the numpy model (cosine {worst:.4f} < 0.98)")
        return
    (got,) = session.run(None, {"input_ids": ids, "attention_mask": mask})
    worst = float(np.abs(got - want).max())
    print(f"largest difference from the numpy forward pass: {worst:.2e}")
    if worst > 1e-4:
        sys.exit(f"the exported graph disagrees with the numpy model ({worst:.2e} > 1e-4)")


def quantise(fp32_path, out_path, model):
    """The encoder's weight products in int8 (per output channel, dynamic
    activations): ONNX Runtime's own quantiser, so the kernels it picks are
    the ones it tests. Attention's activation products stay in fp32.

    Weights use 7 bits (`reduce_range`): on x86 CPUs without VNNI, ONNX
    Runtime multiplies u8 activations by s8 weights with `vpmaddubsw`, whose
    pairwise 16-bit sums saturate with full-range weights; with 7 bits they
    cannot, so every CPU computes the same vectors."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    weights = {i.name for i in model.graph.initializer}
    products = [n.name for n in model.graph.node if n.op_type == "MatMul" and any(x in weights for x in n.input)]
    quantize_dynamic(
        str(fp32_path),
        str(out_path),
        per_channel=True,
        weight_type=QuantType.QInt8,
        reduce_range=True,
        nodes_to_quantize=products,
    )


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if len(args) != 2:
        sys.exit(__doc__)
    model_dir, out_path = Path(args[0]), Path(args[1])
    int8 = "--int8" in sys.argv
    model, w, cfg = build(model_dir)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    partial = out_path.with_suffix(".onnx.partial")
    onnx.save(model, str(partial))
    if int8:
        if "--check" in sys.argv:
            check(partial, w, cfg, int8=False)
        fp32 = out_path.with_suffix(".fp32.partial")
        partial.replace(fp32)
        quantise(fp32, partial, model)
        fp32.unlink()
    partial.replace(out_path)
    print(f"wrote {out_path} ({out_path.stat().st_size / 1e6:.1f} MB)")
    if "--check" in sys.argv:
        check(out_path, w, cfg, int8)


if __name__ == "__main__":
    main()
