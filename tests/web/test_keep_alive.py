"""An idle connection stays open longer than HTTP clients keep one in their pools.

uvicorn's default closed an idle connection after 5 s; aiohttp keeps one for 15 s and httpx
for 5 s, so a request sent at the instant the server closed failed on the client ("Can not
write request body", seen in the load bench). ``ketaclinic run`` and the test server serve
with ``SERVER_OPTIONS``.
"""

from __future__ import annotations

import http.client
import time

from ketaclinic.cli._web import SERVER_OPTIONS


def test_an_idle_connection_is_still_open_after_six_seconds(live_server) -> None:
    assert SERVER_OPTIONS["timeout_keep_alive"] >= 60
    connection = http.client.HTTPConnection("127.0.0.1", live_server.port, timeout=10)
    try:
        connection.request("GET", "/health")
        first = connection.getresponse()
        first.read()
        assert first.status == 200
        socket_before = connection.sock
        time.sleep(6)  # longer than uvicorn's default keep-alive (5 s)
        # a closed connection gives RemoteDisconnected here (http.client does not reconnect)
        connection.request("GET", "/health")
        second = connection.getresponse()
        second.read()
        assert second.status == 200
        assert connection.sock is socket_before  # the same connection
    finally:
        connection.close()
