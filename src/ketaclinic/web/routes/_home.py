"""``GET /``: the start page of a signed-in user (the clinical dashboard grows here)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ketaclinic.web._deps import PageUser
from ketaclinic.web._templates import render

router = APIRouter(include_in_schema=False)


@router.get("/")
def home(request: Request, user: PageUser) -> Response:
    return render(request, "home.html", {"title": "Home"})
