"""The cases settings in force, and publishing a new version (flushes, never commits)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.cases.models import CaseSettingsVersion
from app.cases.settings_schemas import CasesSettings
from app.errors import InvalidInput
from app.queues.models import Queue


async def settings_in_force(session: AsyncSession) -> tuple[int, CasesSettings]:
    """The published document with the highest version; version 0 and the defaults when
    nothing was published."""
    row = await session.scalar(
        select(CaseSettingsVersion).order_by(CaseSettingsVersion.version.desc()).limit(1)
    )
    if row is None:
        return 0, CasesSettings()
    return row.version, CasesSettings.model_validate(row.document)


async def _check_queues(session: AsyncSession, settings: CasesSettings) -> None:
    named = set(settings.queue_calendars) | settings.escalation_queues()
    if not named:
        return
    known = set(await session.scalars(select(Queue.name).where(Queue.name.in_(named))))
    missing = sorted(named - known)
    if missing:
        raise InvalidInput(
            "The settings name queues that do not exist.",
            details={"queues": missing},
            code="unknown_queue",
        )


async def publish_settings(
    session: AsyncSession, settings: CasesSettings, author_id: int | None, comment: str = ""
) -> int:
    """Store ``settings`` as the next version (the queues it names must exist); its
    version. The caller refreshes the open cases' timers (calendars may have changed)."""
    await _check_queues(session, settings)
    latest = await session.scalar(select(func.max(CaseSettingsVersion.version)))
    version = (latest or 0) + 1
    session.add(
        CaseSettingsVersion(
            version=version,
            document=settings.model_dump(mode="json"),
            author_id=author_id,
            comment=comment,
        )
    )
    await session.flush()
    return version


async def current_settings(session: AsyncSession) -> CasesSettings:
    return (await settings_in_force(session))[1]
