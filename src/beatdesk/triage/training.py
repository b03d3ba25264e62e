"""Training and measuring the triage models (used by `beatdesk triage train|retrain`)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold

from beatdesk.triage import onnx_export, signals
from beatdesk.triage.alert_check import AlertCheck, hits_for
from beatdesk.triage.alert_check import design as alert_design
from beatdesk.triage.bundle import Bundle, Head
from beatdesk.triage.datasets import (
    SEED,
    TASKS,
    Examples,
    chatter,
    contact_parts,
    load,
    split,
)
from beatdesk.triage.encoder import Export, TrainSettings, adapter_of, encoder_proba, fine_tune
from beatdesk.triage.engine import is_emergency, read_many
from beatdesk.triage.features import FeatureSet, Idf, text_key
from beatdesk.triage.profanity import (
    AbuseStack,
    EncoderRoute,
    Routing,
    predict_offensive,
    profanity_scores,
    read_offensive,
)

# (feature space, C) per head, chosen on the held-out parts (see MODELS.md).
HEAD_SETTINGS = {
    "abuse": ("all", 1.0),
    "hate": ("all", 2.0),
    "rumour": ("unigrams", 0.5),
    "crisis-informative": ("all", 1.0),
    "crisis-type": ("all", 1.0),
    "contact": ("all", 8.0),
    "grade": ("all", 8.0),
    "emergency": ("all", 2.0),
}


@dataclass
class Score:
    n: int
    macro_f1: float
    per_class: dict[str, float]


def score(gold: list[str], predicted: list[str]) -> Score:
    labels = sorted(set(gold) | set(predicted))
    per = f1_score(gold, predicted, labels=labels, average=None, zero_division=0)
    present = sorted(set(gold))
    macro = f1_score(gold, predicted, labels=present, average="macro", zero_division=0)
    return Score(
        len(gold),
        round(float(macro), 4),
        {lab: round(float(f), 4) for lab, f in zip(labels, per, strict=True) if lab in present},
    )


def fit_head(name: str, features: FeatureSet, labels: list[str]) -> Head:
    space, c = HEAD_SETTINGS[name]
    counts = features.get(space)
    idf = Idf.fit(counts, min_df=1 if space == "unigrams" else 2)
    # Fit on the task's own columns only: the same solution, far faster than 2M columns.
    compact = idf.transform(counts)[:, idf.index]
    model = LogisticRegression(C=c, max_iter=3000, class_weight="balanced")
    model.fit(compact, labels)
    return Head.from_sklearn(idf, model, n_features=counts.shape[1], space=space)


def baseline_score(train: Examples, held: Examples) -> Score:
    """The yardstick the issue names: TF-IDF + logistic regression, defaults, same data."""
    vec = TfidfVectorizer()
    model = LogisticRegression(max_iter=3000)
    model.fit(vec.fit_transform(train.texts), train.labels)
    return score(held.labels, list(model.predict(vec.transform(held.texts))))


def grade_labels(examples: Examples) -> list[str]:
    return [str(r.get("grade", "")) for r in examples.records]


@dataclass
class TrainResult:
    bundle: Bundle
    report: dict[str, Any]

    def save(self, path: Path) -> None:
        """The bundle, and beside it the ONNX export of its encoder that the product reads."""
        self.bundle.save(path)
        adapter = adapter_of(self.bundle.meta)
        if adapter is not None:
            onnx_export.export(adapter, Export.beside(path))


def train(
    data_dir: Path,
    *,
    held_out: bool,
    extra_contact: Examples | None = None,
    abuse_encoder: bool = True,
    keep_abuse: Bundle | None = None,
    progress: Callable[[str], None] = lambda s: None,
) -> TrainResult:
    """Fit the shared vectoriser and every head.

    held_out=True trains on each task's train part and reports scores (and the baseline)
    on its held-out part; held_out=False trains the shipped models on everything, except
    the held-out parts of the contact seed set and of the tasks marked
    ships_without_held_out (PHEME's report events), which always stay out for evaluation.
    abuse_encoder=False skips fine-tuning the abuse encoder (about 15 minutes on two cores).
    keep_abuse: carry that model's abuse head, stack and encoder over instead of training them.
    """
    parts: dict[str, tuple[Examples, Examples]] = {}
    emergency_threshold = 0.25
    alert_check: AlertCheck | None = None
    for task in TASKS.values():
        if task.name == "contact":
            train_part, held_part = contact_parts()
            examples = train_part.plus(held_part)
        else:
            examples = load(task, data_dir / task.default_file)
            train_part, held_part = split(task, examples)
        progress(f"reading {task.name}: {len(examples)} records")
        if task.name == "contact":
            if extra_contact is not None:
                for record, label in zip(extra_contact.records, extra_contact.labels, strict=True):
                    train_part.add(record, label)
            parts[task.name] = (train_part, held_part)
        elif held_out or task.ships_without_held_out:
            parts[task.name] = (train_part, held_part)
        else:
            parts[task.name] = (examples, Examples())

    # The abuse reading also learns what messages to a police desk look like: reports of
    # knives and beatings are not offensive (OLID alone flagged half the seed set's
    # emergencies). From the seed set's training part only; its held-out part stays unseen.
    desk_abuse = desk_abuse_examples(parts["contact"][0])
    heads: dict[str, Head] = {}
    abuse_stack: AbuseStack | None = None
    keys: dict[str, np.ndarray] = {}
    report: dict[str, Any] = {}
    for name, (train_part, held_part) in parts.items():
        if name == "abuse":
            train_part = train_part.plus(desk_abuse)
        if not (name == "abuse" and keep_abuse is not None):
            progress(f"training {name} on {len(train_part)}")
        features = FeatureSet(train_part.texts)
        if name == "abuse" and keep_abuse is not None:
            progress("carrying the abuse head, stack and encoder over")
            heads[name] = keep_abuse.heads[name]
            keys[name] = keep_abuse.trained_keys[name]
            abuse_stack = AbuseStack.from_meta(keep_abuse.meta.get("abuse_stack"))
        elif name != "contact":
            heads[name] = fit_head(name, features, train_part.labels)
        if name not in keys:
            keys[name] = np.unique(
                np.array([text_key(t) for t in train_part.texts], dtype=np.int64)
            )
        if name == "contact":
            progress("fitting the grade and emergency heads and the alert check")
            contact = fit_contact(train_part, features)
            heads.update(contact.heads)
            emergency_threshold, alert_check = contact.emergency_threshold, contact.alert_check
            keys["grade"] = keys["emergency"] = keys[name]
        if name == "abuse" and keep_abuse is None:
            progress("fitting the abuse stack on out-of-fold scores")
            abuse_stack = fit_abuse_stack(train_part, with_encoder=abuse_encoder, progress=progress)
        if len(held_part):
            started = time.perf_counter()
            if name == "abuse":
                reading = read_offensive(heads[name], abuse_stack, FeatureSet(held_part.texts))
                predicted = ["OFF" if p >= 0.5 else "NOT" for p in reading.proba]
            else:
                predicted = heads[name].predict(FeatureSet(held_part.texts))
            rate = len(held_part) / max(time.perf_counter() - started, 1e-9)
            ours = score(held_part.labels, predicted)
            base = baseline_score(train_part, held_part)
            report[name] = {
                "n_train": len(train_part),
                "n_held_out": ours.n,
                "macro_f1": ours.macro_f1,
                "baseline_macro_f1": base.macro_f1,
                "per_class": ours.per_class,
                "msgs_per_s": round(rate),
            }
            if name == "abuse" and abuse_stack is not None and abuse_stack.encoder:
                report[name].update(abuse_encoder_scores(heads[name], abuse_stack, held_part))
                report[name]["encoder_share"] = round(float(reading.read_by_encoder.mean()), 4)
    if "contact" in report:
        report["contact"].update(
            contact_scores(
                Bundle(
                    heads=heads,
                    meta={
                        "emergency_threshold": emergency_threshold,
                        "alert_check": alert_check.to_meta() if alert_check else None,
                    },
                ),
                parts["contact"][1],
            )
        )
        report["contact"]["abuse_flags"] = desk_abuse_scores(
            heads["abuse"], abuse_stack, parts["contact"][1]
        )
    bundle = Bundle(
        heads=heads,
        trained_keys=keys,
        meta={
            "trained_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "held_out_mode": held_out,
            "emergency_threshold": emergency_threshold,
            "alert_check": alert_check.to_meta() if alert_check else None,
            "abuse_stack": abuse_stack.to_meta() if abuse_stack else None,
            "abuse_trained_at": (
                keep_abuse.meta.get("abuse_trained_at") or keep_abuse.meta.get("trained_at")
                if keep_abuse is not None
                else None
            ),
            "sizes": {name: len(p[0]) for name, p in parts.items()},
            "features": {name: int(len(h.idf.index)) for name, h in heads.items()},
        },
    )
    return TrainResult(bundle, report)


def fit_abuse_stack(
    train_part: Examples,
    folds: int = 5,
    *,
    with_encoder: bool = False,
    progress: Callable[[str], None] = lambda s: None,
) -> AbuseStack:
    """Fit the stack on abuse-head scores each made by a head that never saw that text.

    with_encoder: also fine-tune the encoder on the first fold's other four fifths, and fit
    its route (band and weights) on that fold, which neither it nor the heads scoring it saw.
    """
    labels = np.array(train_part.labels)
    p_head = np.zeros(len(labels))
    splitter = StratifiedKFold(folds, shuffle=True, random_state=SEED)
    for fit_idx, score_idx in splitter.split(np.zeros(len(labels)), labels):
        head = fit_head(
            "abuse",
            FeatureSet([train_part.texts[i] for i in fit_idx]),
            list(labels[fit_idx]),
        )
        scored = FeatureSet([train_part.texts[i] for i in score_idx])
        p_head[score_idx] = head.proba(scored)[:, head.classes.index("OFF")]
    p_profanity = profanity_scores(train_part.texts)
    offensive = labels == "OFF"
    stack = AbuseStack.fit(p_head, p_profanity, offensive)
    if not with_encoder:
        return stack
    fit_idx, blend_idx = next(splitter.split(np.zeros(len(labels)), labels))
    progress(f"fine-tuning the abuse encoder on {len(fit_idx)} texts")
    adapter = fine_tune(
        [train_part.texts[i] for i in fit_idx], offensive[fit_idx], ENCODER_SETTINGS, progress
    )
    p_encoder = encoder_proba(adapter, [train_part.texts[i] for i in blend_idx])
    h, p, y = p_head[blend_idx], p_profanity[blend_idx], offensive[blend_idx]
    everything = EncoderRoute.fit(h, p, p_encoder, y, (0.0, 1.0), adapter)
    band = choose_band(stack.proba(h, p), everything.proba(h, p, p_encoder))
    progress(f"the encoder reads fast-stack probabilities from {band[0]} to {band[1]}")
    return replace(stack, encoder=replace(everything, band=band))


ENCODER_SETTINGS = TrainSettings()
# The band may change at most this share of the decisions the encoder makes reading everything.
# Judged against those decisions rather than the labels: on a fold of two thousand texts, a
# macro-F1 difference of a few thousandths is noise, and chasing it picked bands far too narrow.
BAND_DISAGREEMENT = 0.01
BANDS = [
    (round(float(low), 2), round(float(high), 2))
    for low in np.arange(0.05, 0.5, 0.05)
    for high in np.arange(0.55, 1.0, 0.05)
]


def choose_band(p_fast: np.ndarray, p_full: np.ndarray) -> tuple[float, float]:
    """The band of fast-stack probabilities that sends the fewest messages to the encoder
    while agreeing with sending all of them on all but BAND_DISAGREEMENT of decisions."""
    everywhere = p_full >= 0.5
    choice, share = (0.0, 1.0), 1.0
    for low, high in BANDS:
        inside = (p_fast >= low) & (p_fast <= high)
        routed = np.where(inside, p_full, p_fast) >= 0.5
        close = float(np.mean(routed != everywhere)) <= BAND_DISAGREEMENT
        if close and inside.mean() < share:
            choice, share = (low, high), float(inside.mean())
    return choice


def abuse_encoder_scores(head: Head, stack: AbuseStack, held: Examples) -> dict[str, Any]:
    """Held-out macro-F1 of the fast path alone and of the encoder reading everything."""
    features = FeatureSet(held.texts)
    return {
        "macro_f1_fast_path": score(
            held.labels, predict_offensive(head, stack, features, encoder="off")
        ).macro_f1,
        "macro_f1_encoder_everywhere": score(
            held.labels, predict_offensive(head, stack, features, encoder="all")
        ).macro_f1,
    }


# Seed contact types that say whether a message to the desk is abuse: abuse aimed at the
# police is; an emergency, a crime report, information, a request or a compliment is not.
# Complaints and "other" say nothing either way (a complaint may well swear) and are left out.
DESK_ABUSE = {
    "abuse": "OFF",
    "emergency": "NOT",
    "crime_report": "NOT",
    "information": "NOT",
    "request": "NOT",
    "compliment": "NOT",
}


def desk_abuse_examples(contact: Examples) -> Examples:
    """Seed messages labelled for the abuse task (OFF/NOT) by their contact type."""
    examples = Examples()
    for record, label in zip(contact.records, contact.labels, strict=True):
        if label in DESK_ABUSE:
            examples.add(record, DESK_ABUSE[label])
    return examples


def desk_abuse_scores(head: Head, stack: AbuseStack | None, held: Examples) -> dict[str, Any]:
    """How the abuse flag reads messages to a desk (the seed set's held-out part): the share
    of abuse-type messages flagged, and of the clean types wrongly flagged, for the fast
    reading alone and once the encoder has read the uncertain ones."""
    desk = desk_abuse_examples(held)
    features = FeatureSet(desk.texts)
    offensive = np.array(desk.labels) == "OFF"
    result: dict[str, Any] = {"n": len(desk)}
    readings: list[tuple[str, Routing]] = [("fast", "off"), ("two_stage", "uncertain")]
    for name, routing in readings:
        flagged = read_offensive(head, stack, features, encoder=routing).proba >= 0.5
        result[name] = {
            "abuse_recall": round(float(flagged[offensive].mean()), 4),
            "false_flag_rate": round(float(flagged[~offensive].mean()), 4),
            "macro_f1": score(desk.labels, ["OFF" if f else "NOT" for f in flagged]).macro_f1,
        }
    return result


def contact_scores(bundle: Bundle, held: Examples) -> dict[str, Any]:
    """The whole triage reading (model and cue words) on the seed set's held-out part."""
    readings = read_many(held.texts, bundle)
    types = score(held.labels, [r.contact_type for r in readings])
    grades = score(grade_labels(held), [str(r.grade) for r in readings])
    caught = [
        r.contact_type == "emergency"
        for r, g in zip(readings, held.labels, strict=True)
        if g == "emergency"
    ]
    return {
        "triage_macro_f1": types.macro_f1,
        "triage_per_class": types.per_class,
        "grade_macro_f1": grades.macro_f1,
        "emergency_recall": round(sum(caught) / len(caught), 4) if caught else None,
    }


@dataclass
class ContactModels:
    heads: dict[str, Head]
    emergency_threshold: float
    alert_check: AlertCheck

    def meta(self) -> dict[str, Any]:
        return {
            "emergency_threshold": self.emergency_threshold,
            "alert_check": self.alert_check.to_meta(),
        }


def fit_contact(train_part: Examples, features: FeatureSet | None = None) -> ContactModels:
    """The contact-type, grade and emergency heads and the alert check (used by training
    and by `beatdesk triage retrain`). The emergency head and the alert check also learn
    from the chatter sample that strangers' talk of guns and killing is no emergency."""
    features = features or FeatureSet(train_part.texts)
    both = train_part.plus(chatter())
    heads = {
        "contact": fit_head("contact", features, train_part.labels),
        "grade": fit_head("grade", features, grade_labels(train_part)),
        "emergency": fit_head("emergency", FeatureSet(both.texts), emergency_labels(both)),
    }
    oof_contact, oof_emergency = out_of_fold_emergency(both, contact_rows=len(train_part))
    return ContactModels(
        heads,
        choose_emergency_threshold(train_part, oof_contact[: len(train_part)]),
        fit_alert_check(both, oof_contact, oof_emergency),
    )


def emergency_labels(examples: Examples) -> list[str]:
    return ["emergency" if label == "emergency" else "not" for label in examples.labels]


def out_of_fold_emergency(
    examples: Examples, contact_rows: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Each message's emergency probability from the contact head and from the emergency
    head, each made by heads that never saw that message (5 folds). Only the first
    contact_rows messages (the desk's own) teach the contact head."""
    labels = np.array(examples.labels)
    binary = np.array(emergency_labels(examples))
    desk = np.arange(len(labels)) < (len(labels) if contact_rows is None else contact_rows)
    oof_contact, oof_emergency = np.zeros(len(labels)), np.zeros(len(labels))
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=SEED)
    for fit_idx, test_idx in folds.split(labels, labels):
        fitted = FeatureSet([examples.texts[i] for i in fit_idx])
        emergency = fit_head("emergency", fitted, list(binary[fit_idx]))
        own = fit_idx[desk[fit_idx]]
        contact = fit_head(
            "contact", FeatureSet([examples.texts[i] for i in own]), list(labels[own])
        )
        scored = FeatureSet([examples.texts[i] for i in test_idx])
        oof_contact[test_idx] = contact.proba(scored)[:, contact.classes.index("emergency")]
        oof_emergency[test_idx] = emergency.proba(scored)[:, emergency.classes.index("emergency")]
    return oof_contact, oof_emergency


def fit_alert_check(
    examples: Examples, oof_contact: np.ndarray, oof_emergency: np.ndarray
) -> AlertCheck:
    x = alert_design(examples.texts, oof_contact, oof_emergency, hits_for(examples.texts))
    return AlertCheck.fit(x, np.array(examples.labels) == "emergency", SEED)


def choose_emergency_threshold(
    train_part: Examples, oof: np.ndarray, target_recall: float = 0.90
) -> float:
    """The highest threshold that still catches target_recall of emergencies, judged on
    out-of-fold predictions over the training part only (the held-out part stays unseen).
    Used by bundles without an alert check."""
    labels = np.array(train_part.labels)
    hits = [signals.find(t) for t in train_part.texts]
    emergencies = np.flatnonzero(labels == "emergency")
    for threshold in np.round(np.arange(0.5, 0.04, -0.01), 2):
        caught = sum(is_emergency(hits[i], oof[i], float(threshold)) for i in emergencies)
        if caught / max(len(emergencies), 1) >= target_recall:
            return float(threshold)
    return 0.05
