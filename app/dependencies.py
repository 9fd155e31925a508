"""Request-scoped dependencies shared by every router."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.database import Database


def get_database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's unit of work, committed once when the endpoint returns.

    With ``scope="function"`` FastAPI runs the code after ``yield`` before the response is
    sent: a client gets 2xx only for what is committed, and effects run after the commit.
    """
    async with get_database(request).unit_of_work() as session:
        yield session


async def get_one_statement_session(request: Request) -> AsyncIterator[AsyncSession]:
    """For an endpoint whose only write is one statement (``Database.one_statement``)."""
    async with get_database(request).one_statement() as session:
        yield session


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
OneStatementSessionDep = Annotated[
    AsyncSession, Depends(get_one_statement_session, scope="function")
]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
