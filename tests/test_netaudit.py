"""The network audit that guards every test really sees a subprocess's lookups and connections."""

from __future__ import annotations

import os
import subprocess
import sys


def test_audit_records_a_subprocess_reaching_out(tmp_path):
    log = tmp_path / "audit.log"
    # A second hook, added after the audit's, aborts each call before it reaches the network:
    # the audit must have recorded it already, and no packet leaves this machine.
    code = (
        "import socket, sys\n"
        "def stop(event, args):\n"
        "    if event in ('socket.connect', 'socket.getaddrinfo'): raise PermissionError(event)\n"
        "sys.addaudithook(stop)\n"
        "for call in (lambda: socket.getaddrinfo('example.invalid', 443),\n"
        "             lambda: socket.socket().connect(('192.0.2.1', 9)),\n"
        "             lambda: socket.socket().connect(('127.0.0.1', 9))):\n"
        "    try: call()\n"
        "    except PermissionError: pass\n"
    )
    subprocess.run([sys.executable, "-c", code], env={**os.environ, "SKW_NETAUDIT_LOG": str(log)}, check=True)
    text = log.read_text()
    assert "getaddrinfo 'example.invalid'" in text and "connect ('192.0.2.1', 9)" in text
    assert "127.0.0.1" not in text
