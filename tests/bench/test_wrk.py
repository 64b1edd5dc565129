import http.server
import shutil
import tempfile
import threading
import urllib.parse
from pathlib import Path
from unittest import mock

import pytest
from django.test import SimpleTestCase

from bench import wrk

OUTPUT = """\
Running 3s test @ http://127.0.0.1:8000/contact/
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    10.52ms    3.10ms  45.00ms   80.00%
  Latency Distribution
     50%   10.00ms
     99%   30.00ms
  1500 requests in 3.00s, 1.00MB read
BENCH-RESULT requests=1500 duration_us=3000000 connect=0 read=1 write=0 \
status=2 timeout=3 mean_us=10520.5 max_us=45000 p50_us=10000 p90_us=15000 \
p95_us=20000 p99_us=30000
Requests/sec:    500.00
"""


class ParseTests(SimpleTestCase):
    def test_reads_the_scripts_result_line_in_milliseconds(self):
        result = wrk.parse(OUTPUT)

        assert result.requests == 1500
        assert result.seconds == 3.0
        assert (result.p50, result.p95, result.p99, result.max) == (10, 20, 30, 45)
        assert result.mean == pytest.approx(10.5205)
        assert result.throughput == 500

    def test_counts_socket_errors_and_timeouts_apart_from_bad_statuses(self):
        result = wrk.parse(OUTPUT)

        assert (result.errors, result.timeouts, result.bad_status) == (4, 3, 2)

    def test_output_without_the_result_line_is_an_error(self):
        with pytest.raises(ValueError):
            wrk.parse("Running 3s test @ http://127.0.0.1/\n")


class ScriptTests(SimpleTestCase):
    def test_lua_strings_are_escaped(self):
        assert wrk.lua_string('a "b"\\\n') == '"a \\"b\\"\\\\\\n"'
        assert wrk.lua_string(None) == "nil"

    def test_script_carries_method_path_headers_and_body(self):
        text = wrk.script(
            "POST", "/contact/", {"HX-Request": "true"}, "email=v-__N__%40x.org"
        )

        assert 'local method = "POST"' in text
        assert '["HX-Request"] = "true"' in text
        assert 'local body = "email=v-__N__%40x.org"' in text

    def test_command_runs_one_thread_for_one_client(self):
        with mock.patch.object(wrk, "binary", return_value="/usr/bin/wrk"):
            command = wrk.command("http://127.0.0.1/", 1, 3, Path("s.lua"))

        assert command[0] == "/usr/bin/wrk"

        assert command[command.index("-t") + 1] == "1"
        assert "--latency" in command


class _Recorder(http.server.BaseHTTPRequestHandler):
    bodies: list[str] = []

    def do_POST(self):
        length = int(self.headers["Content-Length"])
        type(self).bodies.append(self.rfile.read(length).decode())
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


@pytest.mark.skipif(shutil.which("wrk") is None, reason=wrk.INSTALL_HINT)
class RunTests(SimpleTestCase):
    def test_each_request_gets_its_own_address_and_the_result_parses(self):
        _Recorder.bodies = []
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_address[1]}/contact/"
        body = urllib.parse.urlencode({"email": f"v-{wrk.UNIQUE}@example.com"})
        text = wrk.script("POST", "/contact/", {}, body, run="test")

        try:
            result = wrk.wait(wrk.start(url, 2, 1, text, Path(tempfile.mkdtemp())))
        finally:
            server.shutdown()

        emails = [urllib.parse.parse_qs(b)["email"][0] for b in _Recorder.bodies]
        assert result.requests > 0 and not result.bad_status
        assert len(set(emails)) == len(emails)
        assert all(e.startswith("v-test-") for e in emails)
