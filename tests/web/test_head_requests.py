"""HEAD answers as GET does (status and headers), without the body, on every GET route."""

from __future__ import annotations

from web_helpers import sign_in_page

from ketaclinic.web import route_table


def test_every_get_route_answers_head_with_the_status_of_get(client):
    """Anonymous and signed in, on every GET route of the route table without a path
    parameter: the same status, no body."""
    paths = sorted({r.path for r in route_table(client.app) if "GET" in r.methods})
    plain = [p for p in paths if "{" not in p]
    assert "/" in plain
    for signed_in in (False, True):
        if signed_in:
            sign_in_page(client, "dr.adams")
        for path in plain:
            get = client.get(path, follow_redirects=False)
            head = client.head(path, follow_redirects=False)
            assert (path, head.status_code) == (path, get.status_code)
            assert head.content == b"", path


def test_head_of_the_health_check_is_the_get_without_its_body(client):
    get, head = client.get("/health"), client.head("/health")
    assert head.status_code == get.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]
    assert head.headers["content-length"] == get.headers["content-length"]
    assert head.headers["x-content-type-options"] == "nosniff"


def test_head_of_the_home_page_redirects_anonymous_users_as_get_does(client):
    get = client.get("/", follow_redirects=False)
    head = client.head("/", follow_redirects=False)
    assert head.status_code == get.status_code
    assert head.headers.get("location") == get.headers.get("location")
    assert head.content == b""


def test_head_of_a_signed_in_page_has_the_page_headers_and_no_body(client):
    sign_in_page(client, "dr.adams")
    get, head = client.get("/patients"), client.head("/patients")
    assert head.status_code == get.status_code == 200
    assert get.content
    assert head.content == b""
    assert head.headers["cache-control"] == get.headers["cache-control"] == "no-store"
    assert head.headers["content-type"].startswith("text/html")
