"""The screenshots of the main pages in docs/screenshots/ (``make screenshots``).

A demo clinic (``generate_demo_data``, 60 patients, seed 1, as of today) in a temporary
SQLite database, the app on a free loopback port, Debian's Chromium through Playwright at
1024 px (the clinic's tablet); one PNG per page. Nothing is fetched from outside the machine.
"""

from __future__ import annotations

import shutil
import socket
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import uvicorn
from playwright.sync_api import sync_playwright

from ketaclinic.config import load_settings
from ketaclinic.services import (
    Actor,
    add_staff_user,
    generate_demo_data,
    list_courses,
    open_clinic_database,
    patient_history,
)
from ketaclinic.web import create_app

OUT = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
PATIENTS = 60
MAX_HEIGHT_PX = 1800  # the top of a long page: enough to see it, small enough to keep
USERNAME, PASSWORD = "shots.physician", "screenshots only, loopback"
WIDER_THAN_THE_WINDOW = (
    "() => document.documentElement.scrollWidth > document.documentElement.clientWidth"
)
ADMIN = "shots.admin"  # the admin pages need the admin role (no clinical notes)


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _showcase(db: object, doctor: Actor) -> tuple[int, int, int, int]:
    """A depression patient with a PHQ-9 trajectory: (patient, course, order, session)."""
    for patient_id in range(1, PATIENTS + 1):
        history = patient_history(db, doctor, patient_id)
        phq9 = [s for s in history.outcomes if s.instrument_id == "phq-9"]
        if not phq9 or len(phq9[0].value_points) < 4 or not history.sessions:
            continue
        courses = [c for c in list_courses(db, doctor, patient_id) if c.orders]
        if not courses:
            continue
        course = courses[-1]
        return (
            patient_id,
            course.course_id,
            course.orders[0]["order_id"],
            int(history.sessions[-1]["session_id"]),
        )
    raise SystemExit("no demo patient with a PHQ-9 trajectory: raise PATIENTS")


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="kc-shots-"))
    db = open_clinic_database(load_settings(data_dir=folder), upgrade_schema=True)
    cli = Actor.command_line("cli:screenshots")
    generate_demo_data(db, cli, patients=PATIENTS, seed=1, as_of=datetime.now(UTC).date())
    add_staff_user(
        db, cli, username=USERNAME, role="physician", password=PASSWORD, display_name="Dr Demo"
    )
    add_staff_user(
        db, cli, username=ADMIN, role="admin", password=PASSWORD, display_name="Admin Demo"
    )
    doctor = Actor(USERNAME, "127.0.0.1")
    patient, course, order, session = _showcase(db, doctor)
    port = _port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(db=db, warm=False), host="127.0.0.1", port=port, log_level="warning"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    pages = {
        "dashboard": "/dashboard",
        "patients": "/patients",
        "chart": f"/patients/{patient}",
        "intake": "/patients/new",
        "eligibility": f"/patients/{patient}/eligibility",
        "plan": f"/patients/{patient}/plan?protocol=depression-iv",
        "order": f"/orders/{order}",
        "session": f"/sessions/{session}",
        "discharge-sheet": f"/sessions/{session}/discharge-sheet",
        "assessment": f"/patients/{patient}/assessments/new?instrument=phq-9",
        "trial": f"/courses/{course}/trial",
        "schedule": "/schedule",
    }
    admin_pages = {
        "admin-users": "/admin/users",
        "admin-audit": "/admin/audit",
        "admin-audit-verify": "/admin/audit/verify",
    }
    OUT.mkdir(parents=True, exist_ok=True)
    too_wide: list[str] = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium", headless=True, args=["--no-sandbox"]
            )
            for username, shots in ((USERNAME, pages), (ADMIN, admin_pages)):
                context = browser.new_context(viewport={"width": 1024, "height": 768})
                page = context.new_page()
                page.goto(f"{base}/login")
                page.get_by_label("Username").fill(username)
                page.get_by_label("Password").fill(PASSWORD)
                page.get_by_role("button", name="Sign in").click()
                page.wait_for_load_state()
                for name, path in shots.items():
                    page.goto(base + path)
                    if page.locator("[data-figure]").count():
                        page.wait_for_selector(".chart .main-svg")
                    if page.evaluate(WIDER_THAN_THE_WINDOW):
                        too_wide.append(path)
                    height = min(MAX_HEIGHT_PX, page.evaluate("document.body.scrollHeight"))
                    page.set_viewport_size({"width": 1024, "height": height})
                    page.screenshot(path=str(OUT / f"{name}.png"))
                    page.set_viewport_size({"width": 1024, "height": 768})
                    print(f"docs/screenshots/{name}.png  {path}")
                context.close()
            browser.close()
        if too_wide:  # a page on the demo clinic scrolls sideways on the tablet
            raise SystemExit(f"wider than 1024 px: {', '.join(too_wide)}")
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        db.close()  # type: ignore[attr-defined]
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
