"""Demo mode: what ``contactd serve --demo`` fills in so every channel works with no provider.

Pure code. The demo's Twilio token and CTI secret are fixed, published values, so that
``contactd try`` (another process) signs what the demo service checks; because they are
published, a service not in demo mode refuses to start with either of them.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.config import Settings

DEMO_TWILIO_AUTH_TOKEN = "contactd-demo-twilio-token"  # noqa: S105 - published on purpose
DEMO_TWILIO_ACCOUNT_SID = "AC" + "0" * 32
DEMO_CTI_SECRET = "contactd-demo-cti-secret"  # noqa: S105 - published on purpose
DEMO_SMTP_PORT = 2525


class DemoCredentialsRefused(RuntimeError):
    """A demo credential configured on a service that is not in demo mode."""


@dataclass(frozen=True, slots=True)
class Credentials:
    """What signs and carries contacts to a service: its own settings, or the demo's
    values for those left unset (which is what a demo service runs with)."""

    twilio_auth_token: str
    twilio_account_sid: str
    cti_secret: str
    smtp_port: int


def credentials(settings: Settings) -> Credentials:
    token, secret = settings.twilio_auth_token, settings.cti_secret
    return Credentials(
        twilio_auth_token=token.get_secret_value() if token else DEMO_TWILIO_AUTH_TOKEN,
        twilio_account_sid=settings.twilio_account_sid or DEMO_TWILIO_ACCOUNT_SID,
        cti_secret=secret.get_secret_value() if secret else DEMO_CTI_SECRET,
        smtp_port=settings.smtp_port or DEMO_SMTP_PORT,
    )


def demo_environment(settings: Settings, host: str, port: int) -> dict[str, str]:
    """The ``CONTACTD_`` variables a demo service sets for what is not configured: the demo
    token and secret, an SMTP listener, and the public URL it really serves on."""
    filled = credentials(settings)
    env = {"CONTACTD_DEMO": "true"}
    if settings.twilio_auth_token is None:
        env["CONTACTD_TWILIO_AUTH_TOKEN"] = filled.twilio_auth_token
    if settings.cti_secret is None:
        env["CONTACTD_CTI_SECRET"] = filled.cti_secret
    if settings.smtp_port is None:
        env["CONTACTD_SMTP_PORT"] = str(filled.smtp_port)
    if "public_base_url" not in settings.model_fields_set:
        env["CONTACTD_PUBLIC_BASE_URL"] = f"http://{host}:{port}"
    return env


def refuse_demo_credentials(settings: Settings) -> None:
    """Raise DemoCredentialsRefused if a service outside demo mode holds a demo value."""
    if settings.demo:
        return
    token, secret = settings.twilio_auth_token, settings.cti_secret
    misused = [
        name
        for name, value, demo in (
            ("CONTACTD_TWILIO_AUTH_TOKEN", token, DEMO_TWILIO_AUTH_TOKEN),
            ("CONTACTD_CTI_SECRET", secret, DEMO_CTI_SECRET),
        )
        if value is not None and value.get_secret_value() == demo
    ]
    if misused:
        raise DemoCredentialsRefused(
            f"{' and '.join(misused)} hold(s) the published demo value: allowed only with "
            "`contactd serve --demo` (CONTACTD_DEMO=true). Set a secret of your own."
        )
