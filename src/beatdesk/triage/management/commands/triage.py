"""`beatdesk triage eval|train|retrain|export-onnx`: measure, build and improve the triage
models."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from beatdesk.triage.bundle import DEFAULT_BUNDLE, ModelMissing, load_bundle
from beatdesk.triage.datasets import TASKS, DataError
from beatdesk.triage.encoder import EncoderMissing, Export, adapter_of
from beatdesk.triage.evaluation import evaluate
from beatdesk.triage.onnx_export import export, require_train_extra
from beatdesk.triage.retrain import retrain
from beatdesk.triage.training import train


class Command(BaseCommand):
    help = "Evaluate, train or retrain the triage models."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="what", required=True)
        ev = sub.add_parser("eval", help="score the models on a labelled JSONL file")
        ev.add_argument("--task", required=True, choices=sorted(TASKS))
        ev.add_argument("file", type=Path)
        ev.add_argument(
            "--model", type=Path, default=None, help="a model file other than the shipped one"
        )
        tr = sub.add_parser("train", help="train every model from the shared datasets")
        tr.add_argument("--data", type=Path, default=Path("../shared/data"))
        tr.add_argument(
            "--held-out",
            action="store_true",
            help="train on train parts and report held-out scores",
        )
        tr.add_argument("--out", type=Path, default=DEFAULT_BUNDLE)
        tr.add_argument(
            "--report", type=Path, default=None, help="also write the report as JSON here"
        )
        tr.add_argument(
            "--keep-abuse-from",
            type=Path,
            default=None,
            metavar="MODEL",
            help="carry the abuse head, stack and encoder over from this model file instead of "
            "training them again (about 15 minutes on two cores)",
        )
        rt = sub.add_parser("retrain", help="learn from staff corrections; report before and after")
        rt.add_argument("--out", type=Path, default=None)
        ex = sub.add_parser(
            "export-onnx",
            help="write the ONNX export of a model's abuse encoder (the product reads it)",
        )
        ex.add_argument("--model", type=Path, default=DEFAULT_BUNDLE)
        ex.add_argument(
            "--out",
            type=Path,
            default=None,
            help="the .onnx file to write (default: beside the model, as training writes it); "
            "the tokenizer goes beside it",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, "_" + options["what"].replace("-", "_"))(options)
        except (DataError, ModelMissing, EncoderMissing) as exc:
            raise CommandError(str(exc)) from exc

    def _eval(self, options: dict[str, Any]) -> None:
        bundle = load_bundle(options["model"] or DEFAULT_BUNDLE)
        result = evaluate(bundle, options["task"], options["file"])
        if result.get("skipped_as_training_data"):
            self.stderr.write(
                f"left out {result['skipped_as_training_data']} records the model was trained on"
            )
        if "confusion" in result:
            self.stderr.write(confusion_table(result["confusion"]))
        self.stdout.write(json.dumps(result, ensure_ascii=False))

    def _train(self, options: dict[str, Any]) -> None:
        require_train_extra()
        if not options["data"].exists():
            raise CommandError(f"{options['data']}: no such folder (the shared datasets)")
        keep = options["keep_abuse_from"]
        kept = load_bundle(keep) if keep else None
        if kept is not None and options["held_out"] and not kept.meta.get("held_out_mode"):
            raise CommandError(
                f"{keep} was trained on all of OLID: its abuse models would be scored on their "
                "own training data; keep the abuse models of a --held-out model instead"
            )
        result = train(
            options["data"],
            held_out=options["held_out"],
            keep_abuse=kept,
            progress=self.stderr.write,
        )
        result.save(options["out"])
        report = {
            "model": str(options["out"]),
            "encoder_export": str(Export.beside(options["out"]).graph),
            "meta": result.bundle.meta,
            "held_out": result.report,
        }
        if options["report"]:
            options["report"].write_text(json.dumps(report, indent=2) + "\n")
        self.stdout.write(json.dumps(report))

    def _export_onnx(self, options: dict[str, Any]) -> None:
        require_train_extra()
        bundle = load_bundle(options["model"])
        adapter = adapter_of(bundle.meta)
        if adapter is None:
            raise CommandError(f"{options['model']} has no abuse encoder to export")
        out = options["out"]
        written = export(adapter, Export.at(out) if out else Export.beside(options["model"]))
        self.stdout.write(
            json.dumps(
                {
                    "model": str(options["model"]),
                    "onnx": str(written.graph),
                    "tokenizer": str(written.tokenizer),
                    "adapter_sha256": adapter.sha256,
                    "bytes": written.graph.stat().st_size,
                }
            )
        )

    def _retrain(self, options: dict[str, Any]) -> None:
        report = retrain(out=options["out"], progress=self.stderr.write)
        self.stdout.write(json.dumps(report))


def confusion_table(confusion: dict[str, dict[str, int]]) -> str:
    """The confusion of contact types as a plain table: rows are the true types."""
    columns = list(next(iter(confusion.values())))
    short = {c: c.replace("_report", "").replace("emergency", "emerg")[:7] for c in columns}
    width = max(len(t) for t in confusion) + 2
    lines = ["true \\ read as".ljust(width) + "".join(short[c].rjust(8) for c in columns)]
    for true, row in confusion.items():
        lines.append(true.ljust(width) + "".join(str(row[c]).rjust(8) for c in columns))
    return "\n".join(lines)
