from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm

from app.auth import service
from app.auth.dependencies import jwt_secret
from app.auth.schemas import TokenResponse
from app.dependencies import SessionDep, SettingsDep

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


@router.post("/token", response_model=TokenResponse, summary="Sign in (OAuth2 password flow)")
async def issue_token(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
) -> TokenResponse:
    return await service.sign_in(
        session, form.username, form.password, jwt_secret(request), settings.jwt_ttl_seconds
    )
