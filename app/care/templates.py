"""Care templates: Jinja2 in a sandbox, one text per language, checked when a rule is saved.

A template sees ``customer`` (``name``, ``id``), ``day`` and what its trigger knows
(``order``, ``placed_on``, ``vip_until``, ``vip_since``, ``last_sale_at``, ``holiday``,
``holiday_on``); a name it does not know is an error, so a typo fails on save, not on the
morning it would have been sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jinja2 import StrictUndefined
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment

from app.errors import InvalidInput

LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"
CONTEXT_NAMES = (
    "order",
    "placed_on",
    "vip_until",
    "vip_since",
    "last_sale_at",
    "holiday",
    "holiday_on",
)
SAMPLE: dict[str, Any] = {
    "customer": {"name": "王小明", "id": 1},
    "day": "2026-01-01",
    **dict.fromkeys(CONTEXT_NAMES, "sample"),
}


class _CareSandbox(SandboxedEnvironment):
    """The sandbox without multiplication or powers: a care text needs no arithmetic, and
    ``{{ 'x' * 10**9 }}`` would take the scheduler's memory."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        raise SecurityError(f"the operator {operator} is not allowed in care templates")


_env = _CareSandbox(undefined=StrictUndefined, autoescape=False)


@dataclass(frozen=True, slots=True)
class Rendered:
    language: str
    subject: str | None
    body: str

    def as_json(self) -> dict[str, Any]:
        return {"language": self.language, "subject": self.subject, "body": self.body}


def language_for(customer_language: str | None) -> str:
    """The template language for a customer's BCP 47 tag: English for ``en…``, else the
    default (zh-CN)."""
    if customer_language and customer_language.lower().startswith("en"):
        return "en"
    return DEFAULT_LANGUAGE


def _render(source: str, context: Mapping[str, Any]) -> str:
    return _env.from_string(source).render(context)


def render(
    templates: Mapping[str, Mapping[str, Any]],
    customer_language: str | None,
    context: Mapping[str, Any],
) -> Rendered:
    """The customer's language's subject and body. Names the trigger does not fill render
    as empty text."""
    language = language_for(customer_language)
    text = templates[language]
    full = {**dict.fromkeys(CONTEXT_NAMES, ""), **context}
    subject = text.get("subject")
    return Rendered(
        language,
        None if subject is None else _render(str(subject), full),
        _render(str(text["body"]), full),
    )


def validate(templates: Mapping[str, Mapping[str, Any]], *, needs_subject: bool) -> None:
    """Every language present and rendering with the sample context; else 422
    ``template_invalid`` naming the language, the part and the error."""
    for language in LANGUAGES:
        text = templates.get(language)
        if text is None:
            raise InvalidInput(
                f"The {language} template is missing.",
                details={"language": language},
                code="template_invalid",
            )
        if needs_subject and not text.get("subject"):
            raise InvalidInput(
                "An email template needs a subject.",
                details={"language": language, "part": "subject"},
                code="template_invalid",
            )
        for part in ("subject", "body"):
            source = text.get(part)
            if source is None:
                continue
            try:
                _render(str(source), SAMPLE)
            except Exception as exc:  # any failure to render (syntax, name, 1/0) is invalid
                raise InvalidInput(
                    "The template does not render.",
                    details={"language": language, "part": part, "error": str(exc)[:300]},
                    code="template_invalid",
                ) from exc
