"""Reading messages in batches: contact type, grade with reasons, language, abuse,
personal data, rumour signal and relevance. One fast path for all traffic."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from beatdesk.triage import signals
from beatdesk.triage.alert_check import AlertCheck, design
from beatdesk.triage.bundle import Bundle, active_bundle
from beatdesk.triage.language import detect_many
from beatdesk.triage.personal_data import Span, find_personal_data
from beatdesk.triage.profanity import AbuseStack, offensive_proba, routing_from_env

# Emergencies are flagged on a low model probability: a false alarm costs a look, a miss
# can cost a life. Training chooses it by cross-validation on the seed set's training
# part (bundle meta "emergency_threshold"); this is the fallback.
EMERGENCY_THRESHOLD = 0.25
# An update from the scene ("ambulance is here") or a message passing on what others say
# ("my friend said a child was snatched") is not graded 1 on a hesitant model alone: only
# when the model is at least this sure. Chosen on the demo scenario (our development day),
# never on the held-out seed messages.
SETTLED_THRESHOLD = 0.4
ABUSE_THRESHOLD = 0.5


@dataclass
class Reading:
    contact_type: str
    contact_confidence: float
    grade: int
    reasons: list[str]
    language: str
    abusive: bool
    abuse_score: float
    personal_data: list[Span] = field(default_factory=list)
    rumour_score: float = 0.0
    relevance: float = 0.0
    # The fast reading of abuse is unsure and the stronger model has not read it yet.
    abuse_unsure: bool = False


def _top(classes: list[str], p: np.ndarray) -> tuple[str, float]:
    i = int(p.argmax())
    return classes[i], float(p[i])


def is_emergency(hits: dict[str, signals.Hit], p_emergency: float, threshold: float) -> bool:
    threat, now, past = (hits.get(k) for k in ("threat", "now", "past"))
    if hits.get("attended") or hits.get("hearsay"):
        return p_emergency >= max(threshold, SETTLED_THRESHOLD)
    if p_emergency >= threshold:
        return True
    if threat and not past:
        # Threat words with happening-now words, or with a model that half suspects it.
        return bool(now) or p_emergency >= threshold / 2
    return False


def grade_and_type(
    text: str,
    contact: tuple[str, float],
    p_emergency: float,
    model_grade: int,
    threshold: float = EMERGENCY_THRESHOLD,
    *,
    hits: dict[str, signals.Hit] | None = None,
    alert: float | None = None,
    runner_up: str | None = None,
) -> tuple[str, int, list[str]]:
    """Combine the model's reading with the cue words into a type, a grade and reasons.

    alert: the alert check's probability where it alerts, 0 where it does not (None for a
    bundle without an alert check: the older rule of threshold and cue words decides).
    runner_up: the model's next most likely type, for a message it read as an emergency
    that is not graded 1."""
    contact_type, confidence = contact
    hits = signals.find(text) if hits is None else hits
    reasons = []
    threat, now, vulnerable, past = (hits.get(k) for k in ("threat", "now", "vulnerable", "past"))
    if alert is None:
        emergency = is_emergency(hits, p_emergency, threshold)
    else:
        # An update from the scene or hearsay still needs a model that is fairly sure.
        settled = hits.get("attended") or hits.get("hearsay")
        emergency = alert > 0 and not (settled and p_emergency < SETTLED_THRESHOLD)
    if emergency:
        contact_type = "emergency"
        if alert is not None:
            reasons.append(f"reads as an emergency (alert check {alert:.0%})")
        elif p_emergency >= threshold:
            reasons.append(f"reads as an emergency (model {p_emergency:.0%})")
        else:
            reasons.append("threat-to-life words in a message that may be happening now")
    elif contact_type == "emergency":
        contact_type = runner_up or "crime_report"
        reasons.append(
            f"reads as {contact_type.replace('_', ' ')}; not graded 1 by the alert check"
        )
    else:
        reasons.append(f"reads as {contact_type.replace('_', ' ')} (model {confidence:.0%})")
    for kind in ("threat", "now", "vulnerable", "past", "attended", "hearsay", *CALMING):
        hit = hits.get(kind)
        if hit is not None:
            reasons.append(hit.reason)
    if emergency:
        grade = 1
    else:
        grade = max(2, model_grade)
        if vulnerable and contact_type in {"crime_report", "information"} and grade > 2:
            grade = 2
            reasons.append("raised to grade 2: vulnerable person")
        if contact_type in {"compliment", "other"}:
            grade = 4
    return contact_type, grade, reasons


CALMING = tuple(cue.kind for cue in signals.CALMING)


def alert_readings(
    bundle: Bundle,
    texts: list[str],
    probas: dict[str, np.ndarray],
    hits: list[dict[str, signals.Hit]],
) -> np.ndarray | None:
    """The alert check's probability for each message where it alerts, 0 where it does not;
    None for a bundle without an alert check."""
    check = AlertCheck.from_meta(bundle.meta.get("alert_check"))
    if check is None or "emergency" not in probas:
        return None
    contact_col = bundle.heads["contact"].classes.index("emergency")
    emergency_col = bundle.heads["emergency"].classes.index("emergency")
    x = design(
        texts, probas["contact"][:, contact_col], probas["emergency"][:, emergency_col], hits
    )
    p = check.proba(x)
    return np.where(p >= check.threshold, np.maximum(p, 1e-3), 0.0)


def is_abusive(abuse_score: float, contact_type: str) -> bool:
    return abuse_score >= ABUSE_THRESHOLD or contact_type == "abuse"


def read_many(texts: list[str], bundle: Bundle | None = None) -> list[Reading]:
    """Read a batch on the fast path. The messages the stronger abuse model should read
    (BEATDESK_ABUSE_ENCODER: the fast reading's uncertain band, all, or none) say so in
    abuse_unsure; it reads them afterwards, in its own task (actions.do_reread_abuse), so it
    never holds up routing."""
    bundle = bundle or active_bundle()
    if not texts:
        return []
    features = bundle.features(texts)
    heads = bundle.heads
    names = ["contact", "grade", "abuse", "rumour", "crisis-informative"]
    if "emergency" in heads:
        names.append("emergency")
    probas = bundle.read(features, names)
    contact_p, grade_p = probas["contact"], probas["grade"]
    stack = AbuseStack.from_meta(bundle.meta.get("abuse_stack"))
    abuse_p = offensive_proba(heads["abuse"], stack, features, encoder="off")
    unsure = np.zeros(len(texts), dtype=bool)
    mode = routing_from_env()
    if stack is not None and stack.encoder is not None and mode != "off":
        unsure = stack.encoder.wants(abuse_p) if mode == "uncertain" else ~unsure
    rumour_p, relevance_p = probas["rumour"], probas["crisis-informative"]
    contact_classes = heads["contact"].classes
    emergency_col = contact_classes.index("emergency")
    rumour_col = heads["rumour"].classes.index("rumour")
    informative_col = heads["crisis-informative"].classes.index("Related and informative")
    grade_classes = [int(c) for c in heads["grade"].classes]
    languages = detect_many(texts)
    threshold = float(bundle.meta.get("emergency_threshold", EMERGENCY_THRESHOLD))
    hits = [signals.find(t) for t in texts]
    alerts = alert_readings(bundle, texts, probas, hits)
    readings = []
    for i, text in enumerate(texts):
        contact_type, grade, reasons = grade_and_type(
            text,
            _top(contact_classes, contact_p[i]),
            float(contact_p[i, emergency_col]),
            grade_classes[int(grade_p[i].argmax())],
            threshold,
            hits=hits[i],
            alert=None if alerts is None else float(alerts[i]),
            runner_up=contact_classes[int(np.argsort(contact_p[i])[-2])],
        )
        abuse_score = float(abuse_p[i])
        cues = signals.rumour_cues(text)
        rumour = float(rumour_p[i, rumour_col]) * (0.6 + 0.4 * min(cues, 2) / 2)
        readings.append(
            Reading(
                contact_type=contact_type,
                contact_confidence=float(contact_p[i].max()),
                grade=grade,
                reasons=reasons,
                language=languages[i],
                abusive=is_abusive(abuse_score, contact_type),
                abuse_score=round(abuse_score, 4),
                personal_data=find_personal_data(text),
                rumour_score=round(rumour, 4),
                relevance=round(float(relevance_p[i, informative_col]), 4),
                abuse_unsure=bool(unsure[i]),
            )
        )
    return readings


def model_version() -> str:
    return str(active_bundle().meta.get("trained_at", ""))
