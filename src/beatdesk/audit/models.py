"""The audit log: who did what to which record, when and why (DPA 2018 Part 3, s.62)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Category(models.TextChoices):
    """The s.62 logging categories, plus sign-in and access decisions."""

    COLLECTION = "collection", "Collection"
    ALTERATION = "alteration", "Alteration"
    CONSULTATION = "consultation", "Consultation"
    DISCLOSURE = "disclosure", "Disclosure"
    COMBINATION = "combination", "Combination"
    ERASURE = "erasure", "Erasure"
    AUTHENTICATION = "authentication", "Authentication"
    AUTHORIZATION = "authorization", "Authorization"


class AuditEvent(models.Model):
    """One entry in the append-only, hash-chained audit log.

    Each entry's hash covers its fields and the previous entry's hash, so an edit, a
    deletion, an insertion or a reordering breaks the chain at that sequence number. An
    event is written unsealed (no sequence, no hash) and a sealer chains it soon after its
    transaction commits (see chain.py).
    Personal data appears only as `payload_digest`, so erasing it later leaves the chain
    verifiable. On PostgreSQL a trigger refuses UPDATE and DELETE on this table, but for sealing.
    """

    sequence = models.BigIntegerField(unique=True, null=True, blank=True)
    occurred_at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
    )
    # Whose event it is: the actor's force, or the force of the record a system event names.
    # A scope for reading (each force's administrators see their own), not part of what the
    # event says: it is outside the hash (see chain.py); on PostgreSQL the append-only
    # trigger refuses any change to it as to every other column.
    force = models.ForeignKey(
        "accounts.Force",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
    )
    actor_label = models.CharField(
        max_length=64, help_text="'user:<id>', 'system:<component>' or 'anonymous'."
    )
    category = models.CharField(max_length=16, choices=Category.choices)
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    justification = models.CharField(max_length=500, blank=True)
    recipient = models.CharField(max_length=200, blank=True)
    payload_digest = models.CharField(max_length=64, blank=True)
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["sequence", "id"]  # the chain's order; unsealed events after, as written
        indexes = [
            models.Index(fields=["object_type", "object_id"], name="audit_object_idx"),
            # The sealer's work list stays small however long the log grows.
            models.Index(
                fields=["id"], condition=models.Q(sequence__isnull=True), name="audit_unsealed_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.action} {self.object_type}:{self.object_id}"
