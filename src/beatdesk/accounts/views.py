"""Sign-in: password, then a TOTP code (enrolled on first sign-in)."""

from __future__ import annotations

import base64
import hashlib
import io
import time
from typing import Any

import qrcode
import qrcode.image.svg
from axes.helpers import get_client_ip_address
from axes.utils import reset as reset_lockout
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm, PasswordResetForm, SetPasswordForm
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse_lazy
from django_otp import login as otp_login
from django_otp.models import VerifyNotAllowed
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from beatdesk.accounts.actions import (
    check_shift,
    do_change_password,
    do_enrolment_device,
    do_second_factor_passed,
)
from beatdesk.accounts.models import User
from beatdesk.accounts.policy import is_active_staff
from beatdesk.accounts.signals import end_sessions
from beatdesk.accounts.tasks import send_password_reset
from beatdesk.audit.actions import Category, record
from beatdesk.core.redirects import safe_next


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def get_default_redirect_url(self) -> str:
        # Someone already signed in lands where their role lands (the adviser: her home).
        if self.request.user.is_authenticated:
            return resolve_url(landing(self.request.user))  # type: ignore[arg-type]
        return super().get_default_redirect_url()

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["sso_name"] = settings.BEATDESK_OIDC_NAME if settings.BEATDESK_SSO else ""
        return context


def _demo_code(device: TOTPDevice) -> str | None:
    """Demo mode only: show the current code so a visitor can get in without an app."""
    if not settings.DEMO:
        return None
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    return f"{totp.token():06d}"


def _qr_svg(uri: str) -> str:
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buf = io.BytesIO()
    image.save(buf)
    return base64.b64encode(buf.getvalue()).decode()


def landing(user: User) -> str:
    """Where a person lands after signing in: the inbox for the desk's staff; a community
    adviser, who may open none of the police pages, her own account's home."""
    return settings.LOGIN_REDIRECT_URL if is_active_staff(user) else "accounts:home"


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """A person's own account: what she can do here. The adviser's home until Spaces
    arrive (issue 19)."""
    user: User = request.user  # type: ignore[assignment]
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return render(request, "accounts/home.html", {"device": device})


@login_required
def second_factor(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    if user.is_verified():  # type: ignore[attr-defined]
        return redirect(landing(user))
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    enrolling = device is None
    if device is None:
        device = do_enrolment_device(user)
    error = ""
    if request.method == "POST":
        token = request.POST.get("token", "").strip().replace(" ", "")
        allowed, why = device.verify_is_allowed()
        # django-otp gives the reason as an enum member, never as its name.
        if not allowed and why and why.get("reason") is VerifyNotAllowed.N_FAILED_ATTEMPTS:
            error = "Too many wrong codes in a row: wait a few seconds, then enter the current one."
        elif device.verify_token(token):
            do_second_factor_passed(user, device, enrolling=enrolling)
            otp_login(request, device)
            messages.success(request, f"Signed in as {user.display_name}.")
            return redirect(safe_next(request, request.GET.get("next"), landing(user)))
        with transaction.atomic():
            record(user, Category.AUTHENTICATION, "login.second_factor_failed", user)
        error = (
            error or "That code is not right. Codes change every 30 seconds; try the current one."
        )
    context = {
        "enrolling": enrolling,
        "error": error,
        "demo_code": _demo_code(device),
        "qr_svg": _qr_svg(device.config_url) if enrolling else "",
        "secret": base64.b32encode(device.bin_key).decode() if enrolling else "",
    }
    return render(request, "accounts/second_factor.html", context)


def logout_view(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        from django.contrib.auth import logout

        logout(request)
        return redirect("accounts:login")
    return render(request, "accounts/logout.html")


@login_required
def shift(request: HttpRequest) -> HttpResponse:
    """Going on or off shift: auto-assignment only gives work to people on shift."""
    user: User = request.user  # type: ignore[assignment]
    if request.method == "POST":
        check_shift(user, request.POST.get("on_shift") == "1")
        messages.success(
            request,
            "You are on shift: new messages come to you as you have room."
            if user.on_shift
            else "You are off shift: no new work will be assigned to you.",
        )
    return redirect(safe_next(request, request.POST.get("next"), landing(user)))


@login_required
def password_change(request: HttpRequest) -> HttpResponse:
    """A person changes their own password: the old one first, the new one checked by the
    password validators; this session stays signed in and every other one of theirs ends."""
    user: User = request.user  # type: ignore[assignment]
    form = PasswordChangeForm(user, request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            do_change_password(user, form)
            update_session_auth_hash(request, form.user)
            messages.success(request, "Your password has been changed.")
            return redirect(landing(user))
        with transaction.atomic():
            record(user, Category.AUTHENTICATION, "password.change_refused", user)
    return render(request, "accounts/password_change.html", {"form": form})


# Password reset: Django's flow, with the mail sent by a worker, limits, and the audit log.
RESET_WINDOW_SECONDS = 60 * 60


def _over_limit(kind: str, value: str, limit: int) -> bool:
    """Count one more request for this address or client in Django's cache (shared by every
    process when the cache is); True past the limit for the hour. Keys hold digests only:
    the values are personal data."""
    key = f"beatdesk:password-reset:{kind}:{hashlib.sha256(value.encode()).hexdigest()}"
    cache.add(key, 0, RESET_WINDOW_SECONDS)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, RESET_WINDOW_SECONDS)
        count = 1
    return count > limit


class PasswordResetView(auth_views.PasswordResetView):
    """Ask for a reset link by email address. The answer is the same whether or not an
    account has that address; the link is mailed by a worker."""

    template_name = "accounts/password_reset.html"
    success_url = reverse_lazy("accounts:password_reset_sent")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["timeout_minutes"] = settings.PASSWORD_RESET_TIMEOUT // 60
        return context

    def form_valid(self, form: PasswordResetForm) -> HttpResponse:
        email = form.cleaned_data["email"].strip().lower()
        client = get_client_ip_address(self.request) or ""
        limited = _over_limit(
            "client", client, settings.BEATDESK_PASSWORD_RESET_CLIENT_LIMIT
        ) or _over_limit("email", email, settings.BEATDESK_PASSWORD_RESET_EMAIL_LIMIT)
        with transaction.atomic():
            record(
                None,
                Category.AUTHENTICATION,
                "password.reset_limited" if limited else "password.reset_requested",
                object_type="accounts.user",
                payload=email,
            )
        if limited:
            form.add_error(None, "Too many reset requests: wait an hour, then ask again.")
            return self.render_to_response(self.get_context_data(form=form), status=429)
        send_password_reset.enqueue(email, self.request.get_host(), self.request.is_secure())
        return redirect(self.get_success_url())

    def form_invalid(self, form: PasswordResetForm) -> HttpResponse:
        return self.render_to_response(self.get_context_data(form=form), status=400)


class PasswordResetSentView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_sent.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """The link from the mail: choose a new password. Every session of the account ends, its
    sign-in lockout is lifted, and the next sign-in still asks for the second factor."""

    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")

    def dispatch(self, *args: Any, **kwargs: Any) -> HttpResponseBase:
        response = super().dispatch(*args, **kwargs)
        # A valid link first redirects to a URL without its token; this is the refusal page.
        if not self.validlink and response.status_code == 200:
            response.status_code = 400
            with transaction.atomic():
                record(
                    None,
                    Category.AUTHENTICATION,
                    "password.reset_link_refused",
                    object_type="accounts.user",
                )
        return response

    def form_valid(self, form: SetPasswordForm) -> HttpResponse:
        user: User = form.user  # type: ignore[assignment]
        with transaction.atomic():
            response = super().form_valid(form)
            end_sessions(user)
            record(user, Category.ALTERATION, "password.reset_done", user)
        reset_lockout(username=user.get_username())
        return response


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"
