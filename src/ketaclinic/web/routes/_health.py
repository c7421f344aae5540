"""``GET /health``: the process answers (public; no database read, no patient data)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from ketaclinic import __version__
from ketaclinic.web._deps import public

router = APIRouter(tags=["health"])


_BODY = {"status": "ok", "version": __version__}


@router.get("/health", dependencies=[Depends(public)], summary="the process answers")
async def health() -> dict[str, Any]:
    """Answered on the event loop (no thread hop: it reads nothing)."""
    return dict(_BODY)
