"""``/api/v1/auth``: bearer tokens for scripts, and who the token belongs to."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field

from ketaclinic.services import PASSWORD_MAX_CHARS, sign_in, sign_out
from ketaclinic.web._deps import ApiUser, client_address, clock, database, public
from ketaclinic.web._schemas import ERROR_RESPONSES, StrictModel

router = APIRouter(prefix="/api/v1", tags=["auth"], responses=ERROR_RESPONSES)


class TokenRequest(StrictModel):
    username: Annotated[str, Field(min_length=1, max_length=64)]
    password: Annotated[str, Field(min_length=1, max_length=PASSWORD_MAX_CHARS)]


class TokenAnswer(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: datetime = Field(description="the latest the token works (12 h after sign-in)")
    idle_timeout_min: int = Field(description="the token ends after this long unused")


class Me(BaseModel):
    username: str
    display_name: str
    role: str
    permissions: list[str]
    signed_in_at: datetime


@router.post(
    "/auth/token",
    dependencies=[Depends(public)],
    summary="sign in: a bearer token for the API",
)
def issue_token(request: Request, body: TokenRequest) -> TokenAnswer:
    db = database(request)
    new = sign_in(
        db,
        body.username,
        body.password,
        client_address=client_address(request),
        kind="api",
        clock=clock(request),
    )
    return TokenAnswer(
        access_token=new.token,
        expires_at=new.expires_at,
        idle_timeout_min=db.settings.session_idle_timeout_min,
    )


@router.delete("/auth/token", status_code=204, summary="sign out: end this bearer token")
def revoke_token(request: Request, user: ApiUser) -> Response:
    token = request.headers["authorization"].partition(" ")[2].strip()
    sign_out(database(request), token, client_address=client_address(request))
    return Response(status_code=204)


@router.get("/me", summary="the signed-in user and their permissions")
def me(user: ApiUser) -> Me:
    return Me(
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        permissions=sorted(p.value for p in user.permissions),
        signed_in_at=user.signed_in_at,
    )
