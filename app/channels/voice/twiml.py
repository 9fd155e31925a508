"""TwiML documents the voice channel answers with, and what they say in each language.

Built with ElementTree, so every text and URL is escaped; nothing here touches a request.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from xml.etree.ElementTree import Element, SubElement, tostring

DEFAULT_HOLD_MUSIC_URL = (
    "http://com.twilio.sounds.music.s3.amazonaws.com/MARKOVICHAMP-Borghestral.mp3"
)
VOICEMAIL_MAX_SECONDS = 120
_LANGUAGE = re.compile(r"^[a-z]{2,3}-[A-Z]{2}$")


@dataclass(frozen=True, slots=True)
class Prompts:
    greeting: str
    please_hold: str
    position: str  # {position} and {minutes}
    position_unknown_wait: str  # {position}; the wait is unknown (nobody free to take it)
    not_in_service: str
    closed: str
    closed_voicemail: str
    closed_callback: str
    no_message: str
    message_thanks: str
    offer_callback: str
    callback_booked: str
    offer_voicemail: str
    leave_message: str
    survey: str
    survey_thanks: str
    on_hold: str  # the agent put the caller on hold


CHINESE = Prompts(
    greeting="您好，欢迎致电。正在为您转接客服人员，请稍候。",
    please_hold="请稍候，我们会尽快为您接通。",
    position="您目前排在第{position}位，预计等待约{minutes}分钟。",
    position_unknown_wait="您目前排在第{position}位，请稍候，我们会尽快为您接通。",
    not_in_service="您拨打的号码暂不提供服务，请核对后再拨。再见。",
    closed="我们现在不在服务时间，请在服务时间内再次来电。感谢您的来电，再见。",
    closed_voicemail="我们现在不在服务时间。请在提示音后留言，留言完毕请按井号键。",
    closed_callback="我们现在不在服务时间。我们已记录您的号码，将在服务时间内给您回电。再见。",
    no_message="我们没有收到您的留言。再见。",
    message_thanks="感谢您的留言，我们会尽快处理。再见。",
    offer_callback="如需回电，请按1，您的排队位置将为您保留。",
    callback_booked="好的，轮到您时我们会回电至您的来电号码。再见。",
    offer_voicemail="如需留言，请按1，您的排队位置将为您保留。",
    leave_message="请在提示音后留言，留言完毕请按井号键。",
    survey="感谢您的来电。请为本次服务评分：非常满意请按5，满意请按4，一般请按3，不满意请按2，"
    "非常不满意请按1。",
    survey_thanks="感谢您的评价，再见。",
    on_hold="请稍候，客服人员马上回来。",
)
ENGLISH = Prompts(
    greeting="Hello, thank you for calling. Please hold while we connect you to an agent.",
    please_hold="Please hold, we will be with you as soon as we can.",
    position="You are number {position} in line. The expected wait is about {minutes} minutes.",
    position_unknown_wait=(
        "You are number {position} in line. Please hold, we will be with you as soon as we can."
    ),
    not_in_service=(
        "The number you have dialled is not in service. Please check the number and try "
        "again. Goodbye."
    ),
    closed="We are closed at the moment. Please call again during our opening hours. Goodbye.",
    closed_voicemail=(
        "We are closed at the moment. Please leave a message after the tone, and press the "
        "hash key when you are done."
    ),
    closed_callback=(
        "We are closed at the moment. We have your number and will call you back when we "
        "open. Goodbye."
    ),
    no_message="We did not receive a message. Goodbye.",
    message_thanks="Thank you for your message. We will get back to you soon. Goodbye.",
    offer_callback="To be called back instead, press 1. You will keep your place in line.",
    callback_booked=(
        "Thank you. We will call you back on this number when it is your turn. Goodbye."
    ),
    offer_voicemail="To leave a message instead, press 1. You will keep your place in line.",
    leave_message="Please leave your message after the tone, and press the hash key when done.",
    survey=(
        "Thank you for calling. Please rate our service: press 5 if you were very satisfied, "
        "4 satisfied, 3 neutral, 2 dissatisfied, or 1 very dissatisfied."
    ),
    survey_thanks="Thank you for your rating. Goodbye.",
    on_hold="Please hold for a moment; your agent will be right back.",
)


def say_language(language: str | None) -> str:
    """The ``language`` attribute of ``<Say>``: the entry point's, if it looks like one."""
    if language and _LANGUAGE.match(language):
        return language
    return "zh-CN"


def prompts_for(language: str | None) -> Prompts:
    return CHINESE if say_language(language).startswith("zh") else ENGLISH


def render(*verbs: Element) -> str:
    root = Element("Response")
    root.extend(verbs)
    return tostring(root, encoding="unicode")


def say(text: str, language: str) -> Element:
    verb = Element("Say", language=language)
    verb.text = text
    return verb


def play(url: str, *, loop: int = 1) -> Element:
    """``loop=0``: until the call is updated with other TwiML."""
    verb = Element("Play", loop=str(loop))
    verb.text = url
    return verb


def redirect(url: str) -> Element:
    verb = Element("Redirect", method="POST")
    verb.text = url
    return verb


def record(action: str) -> Element:
    return Element(
        "Record",
        action=action,
        method="POST",
        maxLength=str(VOICEMAIL_MAX_SECONDS),
        finishOnKey="#",
        playBeep="true",
    )


def hangup() -> Element:
    return Element("Hangup")


def gather_digit(action: str, *verbs: Element) -> Element:
    """Play ``verbs`` and listen for one key meanwhile; a key press POSTs to ``action``.

    With no key the call goes on to the verb after the ``<Gather>``."""
    verb = Element("Gather", action=action, method="POST", numDigits="1", timeout="1")
    verb.extend(verbs)
    return verb


SURVEY_TIMEOUT_SECONDS = 8


def dial_client(identity: str, *, record: bool = False, after: str | None = None) -> str:
    """What the live call is updated to when an agent accepts it: ring the agent's client;
    with ``record`` (recording configured and the customer's consent allows it) both legs
    are recorded from the answer. ``after``: where Twilio asks what the caller hears once
    the agent's leg ends (the post-call survey)."""
    root = Element("Response")
    attributes = {"record": "record-from-answer-dual"} if record else {}
    if after is not None:
        attributes |= {"action": after, "method": "POST"}
    SubElement(SubElement(root, "Dial", attributes), "Client").text = identity
    return tostring(root, encoding="unicode")


def on_hold(language: str, music_url: str) -> str:
    """The agent put the caller on hold: a word, then music until the agent resumes (which
    updates the call again)."""
    return render(
        say(prompts_for(language).on_hold, say_language(language)), play(music_url, loop=0)
    )


def survey(language: str, answer_url: str) -> str:
    """The post-call survey: one key, 1 to 5, posted to ``answer_url``; silence hangs up."""
    prompts, lang = prompts_for(language), say_language(language)
    verb = Element(
        "Gather",
        action=answer_url,
        method="POST",
        numDigits="1",
        timeout=str(SURVEY_TIMEOUT_SECONDS),
    )
    verb.append(say(prompts.survey, lang))
    return render(verb, hangup())


def survey_thanks(language: str) -> str:
    return render(say(prompts_for(language).survey_thanks, say_language(language)), hangup())


def expected_minutes(seconds: float) -> int:
    return max(1, math.ceil(seconds / 60))


def greeting_then_hold(language: str, greeting: str | None, hold_url: str) -> str:
    """The answer to an incoming call: greet, then the hold loop takes over."""
    text = greeting or prompts_for(language).greeting
    return render(say(text, say_language(language)), redirect(hold_url))


def hold(
    language: str,
    music_url: str,
    hold_url: str,
    *,
    position: int | None,
    expected_wait_seconds: float | None,
    offer: str | None = None,
    choice_url: str | None = None,
) -> str:
    """One turn of the hold loop: where the caller stands, music, then the next turn.

    With an ``offer`` (``callback`` or ``voicemail``: the queue's escalation step made one
    due) the caller may press 1 at any moment of the turn to take it, keeping their place;
    the key goes to ``choice_url``."""
    prompts, lang = prompts_for(language), say_language(language)
    if position is not None and expected_wait_seconds is not None:
        minutes = expected_minutes(expected_wait_seconds)
        text = prompts.position.format(position=position, minutes=minutes)
    elif position is not None:
        text = prompts.position_unknown_wait.format(position=position)
    else:
        text = prompts.please_hold
    if offer is None or choice_url is None:
        return render(say(text, lang), play(music_url), redirect(hold_url))
    invitation = prompts.offer_voicemail if offer == "voicemail" else prompts.offer_callback
    choice = gather_digit(choice_url, say(text, lang), say(invitation, lang), play(music_url))
    return render(choice, redirect(hold_url))


def callback_booked(language: str) -> str:
    """The caller took the callback: they may hang up, their place is kept."""
    return render(say(prompts_for(language).callback_booked, say_language(language)), hangup())


def leave_message(language: str, voicemail_url: str) -> str:
    """The caller chose to leave a message; their place in line is kept for it."""
    prompts = prompts_for(language)
    return render(say(prompts.leave_message, say_language(language)), record(voicemail_url))


def back_on_hold(hold_url: str) -> str:
    return render(redirect(hold_url))


def music_until_bridged(music_url: str, hold_url: str) -> str:
    """An agent has the call; the bridge replaces this loop through the provider's API."""
    return render(play(music_url), redirect(hold_url))


def not_in_service() -> str:
    """For a number we do not serve we know no language: both."""
    return render(
        say(CHINESE.not_in_service, "zh-CN"), say(ENGLISH.not_in_service, "en-US"), hangup()
    )


def closed(language: str, action: str, voicemail_url: str, *, caller_known: bool) -> str:
    """The queue is closed: take a message, promise a callback, or just say so."""
    prompts, lang = prompts_for(language), say_language(language)
    if action == "voicemail":
        return render(
            say(prompts.closed_voicemail, lang),
            record(voicemail_url),
            say(prompts.no_message, lang),
            hangup(),
        )
    if action == "callback" and caller_known:
        return render(say(prompts.closed_callback, lang), hangup())
    return render(say(prompts.closed, lang), hangup())


def voicemail_received(language: str, *, recorded: bool) -> str:
    prompts = prompts_for(language)
    text = prompts.message_thanks if recorded else prompts.no_message
    return render(say(text, say_language(language)), hangup())


def goodbye() -> str:
    return render(hangup())
