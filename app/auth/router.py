from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm

from app.auth import service
from app.auth.dependencies import jwt_secret
from app.auth.schemas import TokenResponse
from app.dependencies import SessionDep, SettingsDep
from app.ratelimit.service import client_address

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


@router.post(
    "/token",
    response_model=TokenResponse,
    summary="Sign in (OAuth2 password flow)",
    responses={
        401: {"description": "Wrong username or password (counted)."},
        429: {"description": "Too many failed sign-ins for the user or address: locked out."},
    },
)
async def issue_token(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
) -> TokenResponse:
    address = client_address(request, settings.forwarded_for_header)
    attempt = service.Attempt(form.username, form.password, address, datetime.now(UTC))
    return await service.sign_in(
        session,
        request.app.state.db,
        attempt,
        service.SignInLimits.from_settings(settings),
        jwt_secret(request),
        settings.jwt_ttl_seconds,
    )
