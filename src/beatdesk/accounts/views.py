"""Sign-in: password, then a TOTP code (enrolled on first sign-in)."""

from __future__ import annotations

import base64
import io
import time

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django_otp import login as otp_login
from django_otp.models import VerifyNotAllowed
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from beatdesk.accounts.models import User
from beatdesk.audit.actions import Category, record
from beatdesk.core.redirects import safe_next


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


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


@login_required
def second_factor(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    if user.is_verified():  # type: ignore[attr-defined]
        return redirect(settings.LOGIN_REDIRECT_URL)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    enrolling = device is None
    if device is None:
        device, _ = TOTPDevice.objects.get_or_create(
            user=user, confirmed=False, defaults={"name": "Authenticator app"}
        )
    error = ""
    if request.method == "POST":
        token = request.POST.get("token", "").strip().replace(" ", "")
        allowed, why = device.verify_is_allowed()
        # django-otp gives the reason as an enum member, never as its name.
        if not allowed and why and why.get("reason") is VerifyNotAllowed.N_FAILED_ATTEMPTS:
            error = "Too many wrong codes in a row: wait a few seconds, then enter the current one."
        elif device.verify_token(token):
            with transaction.atomic():
                if enrolling:
                    device.confirmed = True
                    device.save(update_fields=["confirmed"])
                    record(user, Category.AUTHENTICATION, "second_factor.enrolled", user)
                otp_login(request, device)
                record(user, Category.AUTHENTICATION, "login.second_factor", user)
            messages.success(request, f"Signed in as {user.display_name}.")
            return redirect(
                safe_next(request, request.GET.get("next"), settings.LOGIN_REDIRECT_URL)
            )
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
    if request.method == "POST" and user.is_staff_role:
        with transaction.atomic():
            user.on_shift = request.POST.get("on_shift") == "1"
            user.save(update_fields=["on_shift"])
            record(user, Category.ALTERATION, "shift.on" if user.on_shift else "shift.off", user)
        messages.success(
            request,
            "You are on shift: new messages come to you as you have room."
            if user.on_shift
            else "You are off shift: no new work will be assigned to you.",
        )
    return redirect(safe_next(request, request.POST.get("next"), settings.LOGIN_REDIRECT_URL))


@login_required
def password_change(request: HttpRequest) -> HttpResponse:
    """A person changes their own password: the old one first, the new one checked by the
    password validators; this session stays signed in and every other one of theirs ends."""
    user: User = request.user  # type: ignore[assignment]
    form = PasswordChangeForm(user, request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            with transaction.atomic():
                form.save()
                record(user, Category.ALTERATION, "password.changed", user)
            update_session_auth_hash(request, form.user)
            messages.success(request, "Your password has been changed.")
            return redirect(settings.LOGIN_REDIRECT_URL)
        with transaction.atomic():
            record(user, Category.AUTHENTICATION, "password.change_refused", user)
    return render(request, "accounts/password_change.html", {"form": form})
