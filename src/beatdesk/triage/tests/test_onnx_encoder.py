"""The product reads the abuse encoder from its ONNX export, as torch would, without torch."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from beatdesk.triage import encoder
from beatdesk.triage.bundle import DEFAULT_BUNDLE, load_bundle
from beatdesk.triage.datasets import TASKS, contact_parts, load, split
from beatdesk.triage.encoder import (
    ADAPTER_SHA,
    SHIPPED_EXPORT,
    AbuseEncoder,
    Adapter,
    EncoderMissing,
    Export,
    OnnxEncoder,
    adapter_of,
    load_encoder,
)

OLID = Path(__file__).resolve().parents[4].parent / "shared" / "data" / "olid" / "olid_train.jsonl"
TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def adapter() -> Adapter:
    found = adapter_of(load_bundle(DEFAULT_BUNDLE).meta)
    assert found is not None, "the shipped model has no abuse encoder"
    return found


@pytest.fixture(scope="module")
def readers(adapter: Adapter) -> tuple[OnnxEncoder, AbuseEncoder]:
    return OnnxEncoder(SHIPPED_EXPORT, adapter), AbuseEncoder(adapter)


def assert_same_readings(readers: tuple[OnnxEncoder, AbuseEncoder], texts: list[str]) -> None:
    onnx_reader, torch_reader = readers
    p_onnx, p_torch = onnx_reader.proba(texts), torch_reader.proba(texts)
    worst = int(np.argmax(np.abs(p_onnx - p_torch)))
    assert abs(p_onnx[worst] - p_torch[worst]) <= TOLERANCE, texts[worst]
    assert ((p_onnx >= 0.5) == (p_torch >= 0.5)).all()


def test_the_shipped_export_belongs_to_the_shipped_adapter(adapter):
    # Fails after a retrain that did not write the export: run `beatdesk triage export-onnx`.
    assert SHIPPED_EXPORT.graph.exists() and SHIPPED_EXPORT.tokenizer.exists()
    assert isinstance(load_encoder(adapter), OnnxEncoder)
    assert SHIPPED_EXPORT.graph.stat().st_size < 60_000_000


def test_onnx_reads_the_seed_sets_held_out_part_as_torch_does(readers):
    _, held = contact_parts()  # shipped with the package: this variant always runs
    assert len(held) > 100
    assert_same_readings(readers, held.texts)


@pytest.mark.slow
@pytest.mark.skipif(not OLID.exists(), reason=f"OLID is not at {OLID} (../shared beside a clone)")
def test_onnx_reads_olids_held_out_split_as_torch_does(readers):
    task = TASKS["abuse"]
    _, held = split(task, load(task, OLID))
    assert len(held) > 1500
    assert_same_readings(readers, held.texts)


def test_long_and_empty_texts_read_alike(readers):
    assert_same_readings(readers, ["", "@USER", "knife " * 400, "ça va? 你好 🙂 " * 20])


def test_an_export_is_named_after_its_model_and_its_tokenizer_after_the_export(tmp_path):
    beside = Export.beside(tmp_path / "triage.joblib")
    assert beside == Export(tmp_path / "triage.encoder.onnx", tmp_path / "triage.tokenizer.json")
    assert Export.at(beside.graph) == beside
    assert Export.at(tmp_path / "x.onnx").tokenizer == tmp_path / "x.tokenizer.json"


def test_an_export_of_another_adapter_is_refused(adapter, tmp_path):
    other = Adapter(
        {**adapter.weights, "classifier.bias": -adapter.weights["classifier.bias"]},
        adapter.settings,
    )
    other.origin = tmp_path / "triage.joblib"
    beside = Export.beside(other.origin)
    shutil.copy(SHIPPED_EXPORT.graph, beside.graph)
    shutil.copy(SHIPPED_EXPORT.tokenizer, beside.tokenizer)
    with pytest.raises(EncoderMissing, match=f"exported from adapter sha256 {adapter.sha256[:16]}"):
        load_encoder(other)


def test_a_tokenizer_other_than_the_exported_one_is_refused(adapter, tmp_path):
    beside = Export.beside(tmp_path / "triage.joblib")
    shutil.copy(SHIPPED_EXPORT.graph, beside.graph)
    beside.tokenizer.write_text(json.dumps({"not": "the tokenizer"}))
    with pytest.raises(EncoderMissing, match="not the tokenizer"):
        OnnxEncoder(beside, adapter)


def test_a_model_without_an_export_beside_it_reads_the_shipped_one(adapter, tmp_path):
    retrained = Adapter(dict(adapter.weights), adapter.settings)  # as `triage retrain` keeps it
    retrained.origin = tmp_path / "triage.joblib"
    assert encoder.find_export(retrained) == SHIPPED_EXPORT
    other = Adapter(
        {**adapter.weights, "classifier.bias": -adapter.weights["classifier.bias"]},
        adapter.settings,
    )
    other.origin = tmp_path / "triage.joblib"
    with pytest.raises(EncoderMissing, match="export-onnx"):
        load_encoder(other)


def test_the_product_reads_the_encoder_without_importing_torch():
    script = (
        "import sys\n"
        "from beatdesk.triage.bundle import load_bundle\n"
        "from beatdesk.triage.encoder import adapter_of, encoder_proba\n"
        "p = encoder_proba(adapter_of(load_bundle().meta), ['you absolute clown', 'thanks'])\n"
        "assert p[0] > p[1], p\n"
        "print(sorted(m for m in ('torch', 'transformers', 'onnx') if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip() == "[]"


def test_training_without_the_train_extra_says_what_to_install(monkeypatch, tmp_path):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a)
    )
    with pytest.raises(CommandError, match=r"pip install 'beatdesk\[train\]'"):
        call_command("triage", "train", "--data", str(tmp_path), "--out", str(tmp_path / "m"))
    with pytest.raises(CommandError, match=r"pip install 'beatdesk\[train\]'"):
        call_command("triage", "export-onnx", "--out", str(tmp_path / "m.onnx"))


def test_export_onnx_writes_an_export_the_product_reads(adapter, tmp_path, capsys):
    model = tmp_path / "copy.joblib"
    shutil.copy(DEFAULT_BUNDLE, model)
    call_command("triage", "export-onnx", "--model", str(model))
    printed = json.loads(capsys.readouterr().out)
    written = Export.beside(model)
    assert printed["onnx"] == str(written.graph) and printed["adapter_sha256"] == adapter.sha256
    copied = adapter_of(load_bundle(model).meta)
    assert copied is not None and encoder.find_export(copied) == written
    reader = OnnxEncoder(written, copied)
    session_meta = reader.session.get_modelmeta().custom_metadata_map
    assert session_meta[ADAPTER_SHA] == adapter.sha256
    texts = ["@USER you are a disgusting lying piece of trash", "thank you, the road is clear"]
    shipped = OnnxEncoder(SHIPPED_EXPORT, adapter).proba(texts)
    assert np.abs(reader.proba(texts) - shipped).max() <= TOLERANCE

    call_command("triage", "export-onnx", "--model", str(model), "--out", str(tmp_path / "x.onnx"))
    elsewhere = Export.at(tmp_path / "x.onnx")
    assert elsewhere.tokenizer.exists()
    assert np.abs(OnnxEncoder(elsewhere, adapter).proba(texts) - shipped).max() <= TOLERANCE
