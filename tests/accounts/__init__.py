"""Helpers for the sign-in tests: a confirmed authenticator device and its codes."""

import base64
import time

from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice


def add_device(user: User) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)


def code_for(device: TOTPDevice, *, steps_ahead: int = 0) -> str:
    """What the user's app shows now (or `steps_ahead` × 30 s from now)."""
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def code_for_secret(readable_secret: str) -> str:
    """What an app shows after the user typed in the secret from the enrolment page."""
    text = readable_secret.replace(" ", "")
    key = base64.b32decode(text + "=" * (-len(text) % 8))
    return f"{TOTP(key).token():06d}"


def verified_client(user: User, device: TOTPDevice) -> Client:
    """Signed in with password and code, like complete_sign_in leaves a session."""
    client = Client()
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def sign_in(client: Client, username: str, password: str = "password", **extra: str):
    return client.post(reverse("login"), {"username": username, "password": password}, **extra)
