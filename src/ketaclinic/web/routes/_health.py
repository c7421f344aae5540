"""``GET /health``: the process answers (public; no database read, no patient data)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from ketaclinic import __version__
from ketaclinic.web._deps import public

router = APIRouter(tags=["health"])


@router.get("/health", dependencies=[Depends(public)], summary="the process answers")
def health() -> dict[str, Any]:
    return {"status": "ok", "version": __version__}
