"""Single sign-on through the force's OpenID Connect provider (Entra ID and the like)."""

from __future__ import annotations

from django.db import models
from django_otp.models import Device

from beatdesk.accounts.models import Force, Role, Team, User


class SsoPolicy(models.Model):
    """A force's choices for single sign-on: whether a person the provider vouches for, with
    a mapped group but no account on the desk yet, gets one at their first sign-in."""

    force = models.OneToOneField(Force, on_delete=models.CASCADE, related_name="sso_policy")
    create_accounts = models.BooleanField(
        default=False, help_text="Create an account at the first sign-in of a mapped person."
    )

    def __str__(self) -> str:
        return f"single sign-on policy of {self.force}"


class GroupMapping(models.Model):
    """A group at the identity provider (Entra ID gives its object id) and what it gives on
    the desk: a role, a team, or both. At each sign-in the strongest mapped role and every
    mapped team are the person's."""

    force = models.ForeignKey(Force, on_delete=models.CASCADE, related_name="sso_mappings")
    group = models.CharField(max_length=200, help_text="The group's id as the provider sends it.")
    role = models.CharField(max_length=32, choices=Role.choices, blank=True)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["force", "group"], name="sso_mapping_unique_group")
        ]
        ordering = ["group"]

    def __str__(self) -> str:
        return self.group


class SsoIdentity(models.Model):
    """Who a person is at the provider (issuer and subject): the link that finds their
    account at every later sign-in, whatever their email address becomes."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="sso_identity")
    issuer = models.CharField(max_length=300)
    subject = models.CharField(max_length=255)
    last_sign_in = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["issuer", "subject"], name="sso_identity_unique")
        ]

    def __str__(self) -> str:
        return f"{self.issuer} {self.subject}"


class ProviderSecondFactor(Device):
    """The identity provider's own second factor, as a django-otp device: a sign-in whose ID
    token says (amr) that one was used counts as verified, as a TOTP code would. It takes no
    codes on the desk itself."""

    # Found by django-otp's own queries; no reverse accessor on the user is needed.
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")

    def verify_token(self, token: str) -> bool:
        return False

    def verify_is_allowed(self) -> tuple[bool, dict[str, object] | None]:
        return False, {"reason": "the identity provider checks this factor"}
