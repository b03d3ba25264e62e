"""Mail sent in the background, so the answer to a reset request takes the same time
whether or not an account has the address given (and a slow mail server holds up no one)."""

from __future__ import annotations

from django.contrib.auth.forms import PasswordResetForm
from django.db import transaction
from django_tasks import task

from beatdesk.audit.actions import Category, record_system


@task()
def send_password_reset(email: str, domain: str, use_https: bool) -> int:
    """Mail a one-time reset link to every active account with this address; return how many."""
    form = PasswordResetForm({"email": email})
    if not form.is_valid():
        return 0
    users = list(form.get_users(email))
    for user in users:
        with transaction.atomic():
            record_system("accounts", Category.AUTHENTICATION, "password.reset_mailed", user)
    form.save(
        domain_override=domain,
        use_https=use_https,
        subject_template_name="accounts/password_reset_subject.txt",
        email_template_name="accounts/password_reset_email.txt",
    )
    return len(users)
