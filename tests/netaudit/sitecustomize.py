"""Loaded by every Python process whose PYTHONPATH includes this folder (the tests put it
there, so dbt's subprocesses carry it too). Records every DNS lookup of a name and every
connection to an address that is not loopback, in the file named by SKW_NETAUDIT_LOG."""

import os
import sys

_LOG = os.environ.get("SKW_NETAUDIT_LOG")
_LOCAL = ("127.", "::1", "localhost", "0.0.0.0")


def _record(what: str) -> None:
    with open(_LOG, "a") as f:
        f.write(f"pid={os.getpid()} argv0={os.path.basename(sys.argv[0]) if sys.argv else '?'} {what}\n")


def _hook(event, args):
    if event == "socket.connect":
        addr = args[1]
        if isinstance(addr, tuple) and addr and not str(addr[0]).startswith(_LOCAL):
            _record(f"connect {addr!r}")
    elif event == "socket.getaddrinfo":
        host = args[0]
        if isinstance(host, bytes):
            host = host.decode(errors="replace")
        if host and not str(host).startswith(_LOCAL):
            _record(f"getaddrinfo {host!r}")


if _LOG:
    sys.addaudithook(_hook)
