"""WSGI middleware that records every request it sees, then calls the app.

Used by tests/integration/test_mirroring.sh to see exactly what reached
each httpbin (the real backend and the mirror):

    RECORD_FILE=/tmp/v1.jsonl RECORDER_NAME=v1 \
        gunicorn -w 4 -b 127.0.0.1:8000 recording_app:app

Each request appends one JSON line to RECORD_FILE:
    method, path (path and query as sent), host (Host header), body_sha256,
    body_len, headers (every header name, lowercase, in order), id (the
    x-test-id header, or null).
The file is opened with O_APPEND and each line goes out in one os.write,
so the lines of several gunicorn workers never interleave. When
RECORDER_NAME is set, responses carry "X-Recorded-By: <name>".
"""

import hashlib
import io
import json
import os

import httpbin

ID_HEADER = "HTTP_X_TEST_ID"


class Recorder:
    """Records each request to the JSON-lines file <path>, then calls <app>."""

    def __init__(self, app, path, name=None):
        self.app = app
        self.path = path
        self.name = name
        self._fd = None
        self._pid = None

    def _write(self, line):
        # One descriptor per process: gunicorn forks its workers.
        if self._fd is None or self._pid != os.getpid():
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            self._pid = os.getpid()
        data = line.encode() + b"\n"
        # A short write would split the line; it only happens on a full disk.
        if os.write(self._fd, data) != len(data):
            raise OSError("short write to %s" % self.path)

    @staticmethod
    def _read_body(environ):
        stream = environ.get("wsgi.input")
        if stream is None:
            return b""
        length = environ.get("CONTENT_LENGTH") or ""
        if length.isdigit():
            return stream.read(int(length))
        return stream.read()

    @staticmethod
    def _header_names(environ):
        names = []
        for key in environ:
            if key.startswith("HTTP_"):
                names.append(key[5:].replace("_", "-").lower())
            elif key in ("CONTENT_TYPE", "CONTENT_LENGTH") and environ[key] != "":
                names.append(key.replace("_", "-").lower())
        return names

    @staticmethod
    def _path(environ):
        raw = environ.get("RAW_URI")
        if raw:
            return raw
        path = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
        query = environ.get("QUERY_STRING", "")
        return path + ("?" + query if query else "")

    def __call__(self, environ, start_response):
        body = self._read_body(environ)
        record = {
            "method": environ.get("REQUEST_METHOD"),
            "path": self._path(environ),
            "host": environ.get("HTTP_HOST"),
            "body_sha256": hashlib.sha256(body).hexdigest(),
            "body_len": len(body),
            "headers": self._header_names(environ),
            "id": environ.get(ID_HEADER),
        }
        self._write(json.dumps(record, separators=(",", ":"), sort_keys=True))
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        if not self.name:
            return self.app(environ, start_response)

        def tagged(status, headers, exc_info=None):
            return start_response(status, list(headers) + [("X-Recorded-By", self.name)], exc_info)

        return self.app(environ, tagged)


app = Recorder(httpbin.app, os.environ.get("RECORD_FILE", "requests.jsonl"), os.environ.get("RECORDER_NAME"))
