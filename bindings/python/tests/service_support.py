"""A throwaway issuer service for test_service_api.py and test_service_fuzz.py.

``Server`` runs a real `dotp issuer serve` on a free loopback port over a fresh data
directory; the binary is the one DIGITAL_OTP_DOTP names (scripts/test-python.sh builds it
and sets it). Importable because pytest puts this directory on sys.path (the tests
directory is not a package).

The API keys it makes are *server* credentials, made per run and kept in memory: in
production only the bank's backend holds a channel key (the app talks to that backend over
its own authenticated session), since a key shipped in an app could be extracted and used
against every customer of the institution.
"""

import json
import os
import subprocess
import tempfile
import urllib.error
import urllib.request

import pytest


def dotp_binary():
    """The `dotp` binary from DIGITAL_OTP_DOTP; fails the calling test when it is unset."""
    path = os.environ.get("DIGITAL_OTP_DOTP")
    if not path:
        pytest.fail("DIGITAL_OTP_DOTP is not set: run these tests with scripts/test-python.sh")
    return path


class Server:
    """`dotp issuer serve` on a free loopback port over a fresh data directory.

    Before it starts, the data directory gets the institutions bank-a and bank-b and the
    keys ``keys["channel"]``, ``keys["staff"]``, ``keys["centre"]`` (bank-a) and
    ``keys["staff_b"]`` (bank-b); then ``prepare(server)``, if given, can add more with
    ``run``. ``serve_args`` are added to `dotp issuer serve` (e.g. the rate limits).
    """

    def __init__(self, serve_args=(), prepare=None):
        self.dir = tempfile.TemporaryDirectory()
        self.dotp = dotp_binary()
        self.run("issuer", "add-institution", "bank-a", "Bank A")
        self.run("issuer", "add-institution", "bank-b", "Bank B")
        self.keys = {
            "channel": self.key("bank-a", "channel"),
            "staff": self.key("bank-a", "staff"),
            "staff_b": self.key("bank-b", "staff"),
            "centre": self.key("bank-a", "centre"),
        }
        if prepare is not None:
            prepare(self)
        # Standard error to a file, not a pipe nobody reads: a server that logs many
        # faults would otherwise block once the pipe is full.
        self.log = tempfile.TemporaryFile(mode="w+")
        self.process = subprocess.Popen(
            [self.dotp, "--data-dir", self.dir.name, "issuer", "serve", "--listen", "127.0.0.1:0",
             *serve_args],
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
        )
        line = self.process.stdout.readline().strip()
        if not line.startswith("listening on http://127.0.0.1:"):
            self.process.kill()
            self.process.wait(timeout=30)
            err = self.stderr()
            self.dir.cleanup()
            pytest.fail(f"dotp issuer serve did not start: {line!r} {err}")
        self.url = line.removeprefix("listening on ")

    def run(self, *args):
        """Runs `dotp --data-dir DIR ARGS...` on the server's data; returns its standard output."""
        out = subprocess.run(
            [self.dotp, "--data-dir", self.dir.name, *args], capture_output=True, text=True
        )
        if out.returncode != 0:
            pytest.fail(f"dotp {' '.join(args)} exited {out.returncode}: {out.stderr}")
        return out.stdout

    def key(self, institution, role):
        """Makes an API key with `role` for `institution` and returns it."""
        return self.run("issuer", "add-api-key", "--institution", institution, "--role", role).splitlines()[0]

    def call(self, method, path, key=None, body=None, raw=None, headers=None):
        """One request; `key` is a name in ``keys`` or a key itself. Returns (status, headers, body)."""
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        request = urllib.request.Request(self.url + path, data=data, method=method)
        if key:
            request.add_header("Authorization", "Bearer " + self.keys.get(key, key))
        if data is not None:
            request.add_header("Content-Type", "application/json")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=30) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def stderr(self):
        """What the server has written to its standard error so far."""
        self.log.seek(0)
        return self.log.read()

    def stop(self):
        """Stops the server (SIGTERM) and removes its data directory."""
        self.process.terminate()
        self.process.wait(timeout=30)
        self.process.stdout.close()
        self.log.close()
        self.dir.cleanup()
