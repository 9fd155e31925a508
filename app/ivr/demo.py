"""The demo's bilingual IVR flow (demo_flow.yaml): load it, store it, publish it, map it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.ivr import store
from app.ivr.models import IvrFlow

DEMO_FLOW_FILE = Path(__file__).with_name("demo_flow.yaml")
DEMO_FLOW_NAME = "demo-hotline"


def load_document(path: Path) -> dict[str, Any]:
    """A flow document from a YAML or JSON file (JSON is YAML)."""
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(document, dict):
        raise ValueError(f"{path} does not hold a flow (a mapping)")
    return document


def demo_document() -> dict[str, Any]:
    return load_document(DEMO_FLOW_FILE)


async def install_demo_flow(session: AsyncSession, number_e164: str) -> IvrFlow:
    """Store the demo flow (a new version if it exists), publish it, and run it on the number.

    Needs the demo's queues (sales, support, billing, vip) and skills.
    """
    document = demo_document()
    flow = await session.scalar(select(IvrFlow).where(IvrFlow.name == DEMO_FLOW_NAME))
    if flow is None:
        flow, version = await store.create_flow(
            session, DEMO_FLOW_NAME, "Bilingual demo hotline 双语演示热线", document, None
        )
    else:
        version = await store.add_version(session, flow.id, document, "demo", None)
    await store.publish(session, flow.id, version.version, None)
    await store.map_number(session, number_e164, flow.id)
    return flow
