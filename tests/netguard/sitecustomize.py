"""The test suite's network guard: no socket may reach a host other than loopback.

Loopback means 127.0.0.0/8, ::1, the unspecified address (0.0.0.0, ::, which Linux routes to
this machine) and the localhost names. The guard is installed in the pytest process by
tests/conftest.py, and in every Python process the tests start: the plugin puts this folder
first on PYTHONPATH, so a child's interpreter imports this file as `sitecustomize` at startup,
and sets TESTS_NETWORK_GUARD to a report file. A guarded call to a non-loopback host (an
IPv4/IPv6 `connect`, `connect_ex` or `sendto`, or a name lookup with `getaddrinfo`,
`gethostbyname`, `gethostbyname_ex`) is refused with NetworkGuardError (an OSError, so the
caller sees an ordinary network failure) and appended to the report file as one line; the
plugin fails the test during which the line was written, naming it.

Unix sockets (the embedded Redis) and every other address family pass untouched. Not covered:
non-Python children (redis-server, Chromium) and code that bypasses the `socket` module.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import sys
import threading

ENV = "TESTS_NETWORK_GUARD"
# What a test that builds a child's environment from scratch must keep for the child to be guarded.
CHILD_ENV = ("PYTHONPATH", ENV)
LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}
_INET = (socket.AF_INET, socket.AF_INET6)
_lock = threading.Lock()


class NetworkGuardError(ConnectionRefusedError):
    """A test tried to reach a host other than loopback."""


def is_loopback(host: object) -> bool:
    """True for None, '', a loopback (127.0.0.0/8, ::1, mapped) or unspecified (0.0.0.0, ::)
    address, or a localhost name: destinations that never leave this machine."""
    if host is None or host == "" or host == b"":
        return True
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    name = host.split("%", 1)[0].strip("[]").lower()
    if name in LOOPBACK_NAMES:
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    # The unspecified address (0.0.0.0, ::) as a destination means this machine on Linux.
    return address.is_loopback or address.is_unspecified or bool(mapped and mapped.is_loopback)


def _refuse(what: str, host: object, port: object = None) -> None:
    target = f"{host}:{port}" if port is not None else f"{host}"
    line = f"pid {os.getpid()} ({' '.join(sys.argv)[:200]}): {what} {target}"
    report = os.environ.get(ENV)
    if report:
        with _lock, open(report, "a", encoding="utf-8") as out:
            out.write(line.replace("\n", " ") + "\n")
    raise NetworkGuardError(f"network guard: tests may reach only loopback; refused {line}")


def _check_address(sock: socket.socket, address: object, what: str) -> None:
    if sock.family in _INET and isinstance(address, tuple) and address:
        if not is_loopback(address[0]):
            _refuse(what, address[0], address[1] if len(address) > 1 else None)


def install() -> None:
    """Guards the socket module of this process (idempotent)."""
    if getattr(socket, "_tests_network_guard", False):
        return
    socket._tests_network_guard = True
    connect, connect_ex, sendto = (
        socket.socket.connect,
        socket.socket.connect_ex,
        socket.socket.sendto,
    )
    getaddrinfo, byname, byname_ex = (
        socket.getaddrinfo,
        socket.gethostbyname,
        socket.gethostbyname_ex,
    )

    def guarded_connect(self, address):
        _check_address(self, address, "connect")
        return connect(self, address)

    def guarded_connect_ex(self, address):
        _check_address(self, address, "connect")
        return connect_ex(self, address)

    def guarded_sendto(self, data, *args):
        _check_address(self, args[-1] if args else None, "sendto")
        return sendto(self, data, *args)

    def guarded_getaddrinfo(host, *args, **kwargs):
        if not is_loopback(host):
            _refuse("lookup", host)
        return getaddrinfo(host, *args, **kwargs)

    def guarded_byname(host):
        if not is_loopback(host):
            _refuse("lookup", host)
        return byname(host)

    def guarded_byname_ex(host):
        if not is_loopback(host):
            _refuse("lookup", host)
        return byname_ex(host)

    socket.socket.connect = guarded_connect
    socket.socket.connect_ex = guarded_connect_ex
    socket.socket.sendto = guarded_sendto
    socket.getaddrinfo = guarded_getaddrinfo
    socket.gethostbyname = guarded_byname
    socket.gethostbyname_ex = guarded_byname_ex


# A Python child started with the guard's PYTHONPATH (a pytest-xdist worker is one) ran this file
# as `sitecustomize` at start-up; imported again as tests.netguard.sitecustomize it must be that
# same module, so that there is one NetworkGuardError class and one installed guard.
_early = sys.modules.get("sitecustomize")
if __name__ != "sitecustomize" and os.path.realpath(getattr(_early, "__file__", None) or "") == (
    os.path.realpath(__file__)
):
    sys.modules[__name__] = _early
elif os.environ.get(ENV):
    install()
