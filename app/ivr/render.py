"""A turn's instructions for the provider: TwiML for Twilio, JSON for a generic CTI."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any
from xml.etree.ElementTree import Element, SubElement

from app.channels.voice import twiml
from app.channels.voice.twilio import Urls
from app.ivr.calls import Answer
from app.ivr.engine import (
    Enqueue,
    Fetch,
    Gather,
    Hangup,
    Play,
    Record,
    Say,
    Transfer,
)

IVR_WEBHOOK = "/webhooks/twilio/ivr"


@dataclass(frozen=True, slots=True)
class IvrUrls:
    voice: Urls

    def action(self, run: uuid.UUID, turn: int, event: str | None = None) -> str:
        url = f"{self.voice.base.rstrip('/')}{IVR_WEBHOOK}?run={run}&turn={turn}"
        return url if event is None else f"{url}&event={event}"


def _say(verb: Say | Play) -> Element:
    if isinstance(verb, Play):
        return twiml.play(verb.url)
    element = twiml.say(verb.text, twiml.say_language(verb.language))
    if verb.voice:
        element.set("voice", verb.voice)
    return element


def _gather(verb: Gather, action: str) -> Element:
    element = Element(
        "Gather",
        input=verb.input,
        action=action,
        method="POST",
        timeout=str(verb.timeout_seconds),
        language=twiml.say_language(verb.language),
        actionOnEmptyResult="true",
    )
    if verb.num_digits is not None:
        element.set("numDigits", str(verb.num_digits))
    if "dtmf" in verb.input:
        element.set("finishOnKey", verb.finish_on_key)
    if verb.hints:
        element.set("hints", ", ".join(verb.hints))
    element.extend(_say(prompt) for prompt in verb.prompts)
    return element


def to_twiml(answer: Answer, urls: IvrUrls) -> str:
    """The TwiML document of one turn; its ``action`` URLs come back to the IVR webhook."""
    verbs: list[Element] = []
    for verb in answer.instructions:
        match verb:
            case Say() | Play():
                verbs.append(_say(verb))
            case Gather():
                verbs.append(_gather(verb, urls.action(answer.run_id, answer.turn)))
            case Record():
                action = urls.action(answer.run_id, answer.turn, "recording")
                verbs.append(
                    Element(
                        "Record",
                        action=action,
                        method="POST",
                        maxLength=str(verb.max_seconds),
                        finishOnKey="#",
                        playBeep="true",
                    )
                )
                verbs.append(twiml.redirect(action))  # nothing recorded: Twilio goes on here
            case Fetch():
                verbs.append(twiml.redirect(urls.action(answer.run_id, answer.turn, "lookup")))
            case Enqueue():
                if verb.kind == "queue":
                    return _queued(answer, verbs, urls)
            case Transfer():
                SubElement(dial := Element("Dial"), "Number").text = verb.number
                verbs.append(dial)
            case Hangup():
                verbs.append(twiml.hangup())
    return twiml.render(*verbs)


def _queued(answer: Answer, said: list[Element], urls: IvrUrls) -> str:
    """In line: the voice channel's hold loop takes over (position, expected wait, music)."""
    assert answer.contact_id is not None
    if answer.closed_action is not None:
        return twiml.closed(
            answer.language,
            answer.closed_action,
            urls.voice.voicemail(answer.contact_id),
            caller_known=answer.caller_number is not None,
        )
    return twiml.render(*said, twiml.redirect(urls.voice.hold(answer.contact_id)))


def to_json(answer: Answer) -> dict[str, Any]:
    """The generic CTI path: the same instructions as data, and how to answer them."""
    return {
        "run": str(answer.run_id),
        "turn": answer.turn,
        "done": answer.done,
        "contact_id": answer.contact_id,
        "closed_action": answer.closed_action,
        "instructions": [i.model_dump(mode="json") for i in answer.instructions],
    }
