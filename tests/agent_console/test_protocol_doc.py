"""The protocol document is generated from the models; its examples are valid frames."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from app.agents import protocol as p
from app.agents.protocol_doc import DOC, EXAMPLES, splice


def test_the_document_matches_the_models() -> None:
    written = DOC.read_text(encoding="utf-8")
    assert splice(written) == written, "run: python -m app.agents.protocol_doc"


def test_every_frame_has_an_example() -> None:
    assert set(EXAMPLES) == {*p.CLIENT_FRAMES, *p.SERVER_FRAMES}


@pytest.mark.parametrize("model", list(EXAMPLES), ids=lambda m: m.__name__)
def test_each_example_is_a_valid_frame(model: type[BaseModel]) -> None:
    example = EXAMPLES[model]
    model.model_validate(example)
    if model in p.CLIENT_FRAMES:
        assert type(p.CLIENT_FRAME.validate_python(example)) is model
