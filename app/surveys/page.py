"""The survey page of an email link (``/csat/{token}``): bilingual (zh-CN and en), plain
HTML with no script and no style, so its Content-Security-Policy allows nothing but posting
the form back to this origin. Pure: every text is escaped here."""

from __future__ import annotations

from html import escape

from app.web.assets import PAGE_HEADERS

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
HEADERS = {**PAGE_HEADERS, "Content-Security-Policy": CONTENT_SECURITY_POLICY}

_SCORES = (
    (5, "非常满意", "Very satisfied"),
    (4, "满意", "Satisfied"),
    (3, "一般", "Neutral"),
    (2, "不满意", "Dissatisfied"),
    (1, "非常不满意", "Very dissatisfied"),
)
NOTICES = {
    "recorded": ("感谢您的评价！", "Thank you for your rating!"),
    "already_rated": (
        "您已经评价过本次服务，谢谢。",
        "You have rated this contact already. Thank you.",
    ),
    "survey_expired": ("此评价链接已过期。", "This survey link has expired."),
    "token_expired": ("此评价链接已过期。", "This survey link has expired."),
    "invalid_token": ("此评价链接无效。", "This survey link is not valid."),
    "no_survey": ("此评价链接无效。", "This survey link is not valid."),
    "invalid_input": ("请选择 1 到 5 分。", "Please choose a score from 1 to 5."),
}


def _document(body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>服务评价 · Rate our service</title></head><body>"
        f"{body}</body></html>\n"
    )


def survey_form(action: str, problem: str | None = None) -> str:
    """The form: five choices and an optional comment, posted to ``action``."""
    notice = "" if problem is None else _notice(problem)
    choices = "".join(
        f'<p><label><input type="radio" name="score" value="{score}" required> '
        f"{score} · {escape(zh)} · {escape(en)}</label></p>"
        for score, zh, en in _SCORES
    )
    return _document(
        "<h1>服务评价 · Rate our service</h1>"
        f"{notice}"
        f'<form method="post" action="{escape(action)}">'
        "<fieldset><legend>您对本次服务满意吗？ · How satisfied are you with our service?"
        f"</legend>{choices}</fieldset>"
        '<p><label for="comment">意见（选填） · Comment (optional)</label><br>'
        '<textarea id="comment" name="comment" rows="4" cols="40" maxlength="2000">'
        "</textarea></p>"
        '<p><button type="submit">提交 · Send</button></p></form>'
    )


def _notice(code: str) -> str:
    zh, en = NOTICES.get(code, NOTICES["invalid_token"])
    return f'<p lang="zh-CN">{escape(zh)}</p><p lang="en">{escape(en)}</p>'


def notice_page(code: str) -> str:
    """A page that only says something: thanks, already rated, expired or not valid."""
    return _document(f"<h1>服务评价 · Rate our service</h1>{_notice(code)}")
