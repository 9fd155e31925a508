"""Settings, read once from the environment (prefix ``CONTACTD_``).

Every field is documented in README's configuration table; keep the two in step.
"""

from __future__ import annotations

from datetime import time
from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.validation import known_timezone

DEFAULT_CHAT_ATTACHMENT_TYPES = (
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/pdf",
    "text/plain",
    "application/msword",
    "application/vnd.ms-excel",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
)
"""What a chat takes by default: images, PDF, plain text and office documents."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CONTACTD_", extra="ignore")

    database_url: str | None = Field(
        default=None,
        description="PostgreSQL URL. Unset: an embedded server is started in data_dir.",
    )
    data_dir: Path = Field(default=Path(".contactd"), description="Embedded database home.")
    db_pool_size: int = Field(default=10, ge=1)
    db_max_overflow: int = Field(default=10, ge=0)
    jwt_secret: SecretStr | None = Field(
        default=None, description="HMAC key for access tokens. Required with several workers."
    )
    jwt_ttl_seconds: int = Field(default=8 * 3600, ge=60)
    sign_in_max_failures: int = Field(
        default=5, ge=1, description="Failed sign-ins of one user that lock it out."
    )
    sign_in_max_failures_per_address: int = Field(
        default=20, ge=1, description="Failed sign-ins from one address that lock it out."
    )
    sign_in_window_seconds: float = Field(default=900, gt=0)
    sign_in_lockout_seconds: float = Field(default=900, gt=0)
    log_level: str = "INFO"
    log_json: bool | None = Field(default=None, description="None: JSON unless on a TTY.")
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    default_region: str = Field(default="CN", description="Region for national phone numbers.")
    timezone: str = Field(
        default="Asia/Shanghai",
        description="The shop's time zone: dates without a time, calendar months of scores.",
    )
    value_evaluation_time: time = Field(
        default=time(3, 0),
        description="Daily time (in timezone) of the full customer-value evaluation.",
    )
    # --- consent and outbound touches
    quiet_hours_start: time = Field(
        default=time(21, 0), description="Customer-local start of quiet hours (voice, SMS)."
    )
    quiet_hours_end: time = Field(
        default=time(9, 0), description="Customer-local end of quiet hours (excluded)."
    )
    marketing_cap_touches: int = Field(
        default=1, ge=1, description="Marketing touches allowed per cap window."
    )
    marketing_cap_days: int = Field(default=7, ge=1, description="The cap window in days.")
    # --- proactive care (app.care)
    care_enabled: bool = Field(
        default=True, description="Run the care scheduler (on the routing leader)."
    )
    care_holiday_country: str = Field(
        default="CN", description="Country whose public holidays the care holiday rule greets."
    )
    care_poll_seconds: float = Field(
        default=30, gt=0, description="How often the care scheduler sends the touches due."
    )
    bus_url: str | None = Field(
        default=None,
        description="Events between instances: unset in-process (one instance), redis://host:port/db.",
    )
    bus_prefix: str = Field(
        default="contactd:", description="Prefix of the bus's channel names (one per deployment)."
    )
    demo: bool = Field(
        default=False,
        description="Demo mode (`contactd serve --demo` sets it): the published demo Twilio "
        "token and CTI secret are accepted only then.",
    )
    router_enabled: bool = Field(
        default=True, description="Take part in routing (one instance routes, the others stand by)."
    )
    # --- voice (Twilio-compatible and generic CTI)
    public_base_url: str = Field(
        default="http://127.0.0.1:8000",
        description="How providers reach us; webhook signatures are checked against it.",
    )
    twilio_auth_token: SecretStr | None = Field(default=None, description="Signs Twilio webhooks.")
    twilio_account_sid: str | None = None
    twilio_api_base_url: str = Field(
        default="https://api.twilio.com", description="Provider REST API (a fake one in tests)."
    )
    voice_hold_music_url: str = Field(
        default="http://com.twilio.sounds.music.s3.amazonaws.com/MARKOVICHAMP-Borghestral.mp3",
        description="Played to callers waiting in line.",
    )
    voice_record_calls: bool = Field(
        default=False,
        description="Record bridged calls, except for customers who refused call_recording.",
    )
    cti_secret: SecretStr | None = Field(default=None, description="HMAC key of the CTI API.")
    cti_command_url: str | None = Field(default=None, description="Where commands to the PBX go.")
    # --- outbound calls (docs/outbound.md)
    outbound_voice_provider: Literal["twilio", "cti"] = Field(
        default="twilio", description="Who places outbound calls: Twilio's REST API or the PBX."
    )
    outbound_caller_id: str | None = Field(
        default=None, description="The number (E.164) outbound calls are placed from."
    )
    outbound_max_attempts: int = Field(
        default=3, ge=1, le=10, description="Tries of an outbound call, the first included."
    )
    outbound_retry_minutes: int = Field(
        default=120, ge=0, description="Minutes between the end of a try and the next."
    )
    ivr_lookup_allowed_hosts: str | None = Field(
        default=None,
        description="Comma-separated hosts IVR HTTP lookups may call besides the lookup base.",
    )
    # --- email
    smtp_port: int | None = Field(default=None, description="Inbound SMTP listener port.")
    smtp_hostname: str = "127.0.0.1"
    smtp_tls_cert_file: Path | None = Field(
        default=None, description="PEM certificate (chain) the SMTP listener offers STARTTLS with."
    )
    smtp_tls_key_file: Path | None = Field(
        default=None, description="PEM private key of smtp_tls_cert_file."
    )
    smtp_require_tls: bool = Field(
        default=False, description="Refuse mail until the client has started TLS."
    )
    smtp_auth_username: str | None = Field(
        default=None, description="Set with smtp_auth_password: senders must AUTH (submission)."
    )
    smtp_auth_password: SecretStr | None = None
    email_webhook_secret: SecretStr | None = Field(
        default=None, description="Shared secret of POST /webhooks/email/inbound."
    )
    smtp_relay_host: str | None = Field(default=None, description="Outbound mail relay.")
    smtp_relay_port: int = 25
    smtp_relay_username: str | None = None
    smtp_relay_password: SecretStr | None = None
    email_domain: str = Field(default="example.com", description="Domain of our Message-IDs.")
    max_email_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    max_attachment_bytes: int = Field(default=5 * 1024 * 1024, ge=1024)
    # --- web chat
    chat_max_message_chars: int = Field(default=4000, ge=1)
    chat_messages_per_minute: int = Field(default=30, ge=1)
    chat_sessions_per_address: int = Field(
        default=10, ge=1, description="Chats one client address may start per window."
    )
    chat_sessions_per_widget: int = Field(
        default=300, ge=1, description="Chats one widget may start per window, all visitors."
    )
    chat_session_window_seconds: float = Field(default=60.0, gt=0, le=86400)
    chat_max_anonymous_waiting: int = Field(
        default=50, ge=1, description="Waiting chats without an email one widget may hold."
    )
    chat_attachment_max_bytes: int = Field(
        default=10 * 1024 * 1024, ge=1024, description="Largest file a chat takes (bytes)."
    )
    chat_attachment_types: list[str] = Field(
        default_factory=lambda: list(DEFAULT_CHAT_ATTACHMENT_TYPES),
        description="Media types a chat takes, as sniffed from the content (not the name).",
    )
    chat_transcripts_per_session: int = Field(
        default=3, ge=1, description="Addresses one chat's transcript may be mailed to."
    )
    chat_transcripts_per_address_hour: int = Field(
        default=5, ge=1, description="Transcripts one address may receive an hour, all chats."
    )
    chat_transcript_sender: str | None = Field(
        default=None, description="From address of mailed transcripts; unset: noreply@domain."
    )
    csat_chat_survey_seconds: int = Field(
        default=120,
        ge=0,
        le=3600,
        description="How long a chat visitor may rate the chat after the agent ends it (0: no"
        " chat survey).",
    )
    csat_secret: SecretStr | None = Field(
        default=None,
        description="Key that signs CSAT survey links; unset: derived from CONTACTD_JWT_SECRET.",
    )
    forwarded_for_header: str | None = Field(
        default=None,
        description="Header a trusted proxy puts the client address in (its last entry).",
    )
    # --- agent console
    crm_url: str | None = Field(
        default=None, description="GET {url}?customer_id=N enriches the screen-pop."
    )
    crm_timeout_seconds: float = Field(default=0.3, gt=0, le=5)
    ws_unauthenticated_per_address: int = Field(
        default=20, ge=1, description="Websockets one address may hold open before hello."
    )
    ws_per_message_deflate: bool = Field(
        default=False, description="Compress websocket frames (costs memory per socket)."
    )
    metrics_token: SecretStr | None = Field(
        default=None, description="Bearer token GET /metrics requires; unset: open."
    )
    allowed_origins: str | None = Field(
        default=None,
        description="Comma-separated web origins the chat widget runs on (CORS, websocket Origin).",
    )
    host: str = "127.0.0.1"
    port: int = 8000
    shutdown_grace_seconds: int = Field(
        default=20,
        gt=0,
        le=3600,
        description="On SIGTERM: how long open requests may take to finish before they are cut.",
    )

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        return known_timezone(value)

    @field_validator("care_holiday_country")
    @classmethod
    def _known_holiday_country(cls, value: str) -> str:
        import holidays

        if value.upper() not in holidays.list_supported_countries():
            raise ValueError(f"no holiday calendar for '{value}'")
        return value.upper()

    @model_validator(mode="after")
    def _smtp_security_complete(self) -> Settings:
        if (self.smtp_tls_cert_file is None) != (self.smtp_tls_key_file is None):
            raise ValueError("smtp_tls_cert_file and smtp_tls_key_file go together")
        if (self.smtp_auth_username is None) != (self.smtp_auth_password is None):
            raise ValueError("smtp_auth_username and smtp_auth_password go together")
        needs_tls = self.smtp_require_tls or self.smtp_auth_username is not None
        if needs_tls and self.smtp_tls_cert_file is None:
            raise ValueError(
                "smtp_require_tls and smtp_auth_* need smtp_tls_cert_file and smtp_tls_key_file:"
                " passwords never cross the network in the clear"
            )
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def origins(self) -> frozenset[str] | None:
        """The allowed origins, ours (``public_base_url``) included; None: any."""
        if not self.allowed_origins:
            return None
        listed = {o.strip().rstrip("/").lower() for o in self.allowed_origins.split(",")}
        return frozenset({*listed, origin_of(self.public_base_url)} - {""})

    @property
    def ivr_lookup_hosts(self) -> frozenset[str]:
        listed = (self.ivr_lookup_allowed_hosts or "").split(",")
        return frozenset(h.strip().lower() for h in listed if h.strip())

    @property
    def embedded_pg_dir(self) -> Path:
        return self.data_dir / "pg"


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of a URL, lower-case."""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}".lower()


@lru_cache
def get_settings() -> Settings:
    return Settings()
