"""The network guard: a calendar fetch never opens a socket to a private or reserved address.

A recording listener on loopback stands in for "something inside": nobody accepts from it, so
a connection that got through waits in its backlog and `connections()` finds it without races.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scheduling.intervals import Interval
from storage.freebusy import fetch_busy, source_for
from storage.freebusy.base import SourceUnavailable
from storage.freebusy.caldav_source import CalDavSource
from storage.freebusy.ics import IcsSource
from storage.freebusy.netguard import (
    STRICT,
    AddressPolicy,
    AddrInfo,
    BlockedAddress,
    Resolver,
    check_url,
    system_resolve,
)

UTC_ZONE = ZoneInfo("UTC")
WINDOW = Interval(datetime(2027, 1, 4, tzinfo=UTC), datetime(2027, 1, 5, tzinfo=UTC))
FEED = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:guard-1\r\n"
    "DTSTAMP:20260101T000000Z\r\nDTSTART:20270104T100000Z\r\nDTEND:20270104T110000Z\r\n"
    "END:VEVENT\r\nEND:VCALENDAR\r\n"
)
EXPECTED = (Interval(datetime(2027, 1, 4, 10, tzinfo=UTC), datetime(2027, 1, 4, 11, tzinfo=UTC)),)
BLOCKED = f"Calendar of Ana could not be read: {BlockedAddress.MESSAGE}"
PUBLIC_IP = "151.101.1.1"
LOOPBACK = AddressPolicy.parse("127.0.0.0/8, ::1/128")


class Recorder:
    """Listeners on 127.0.0.1 and (when the host has IPv6) ::1, on one port."""

    def __init__(self) -> None:
        self.sockets = [self._listen(socket.AF_INET, "127.0.0.1", 0)]
        self.port = self.sockets[0].getsockname()[1]
        with contextlib.suppress(OSError):  # no IPv6 loopback: v4 still catches mapped forms
            self.sockets.append(self._listen(socket.AF_INET6, "::1", self.port))

    @staticmethod
    def _listen(family: socket.AddressFamily, host: str, port: int) -> socket.socket:
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.bind((host, port))
        sock.listen(64)
        sock.setblocking(False)
        return sock

    def connections(self) -> list[Any]:
        peers = []
        for sock in self.sockets:
            while True:
                try:
                    conn, peer = sock.accept()
                except BlockingIOError:
                    break
                conn.close()
                peers.append(peer)
        return peers

    def close(self) -> None:
        for sock in self.sockets:
            sock.close()


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    rec = Recorder()
    yield rec
    rec.close()


def _serve(host: str, handler: type[BaseHTTPRequestHandler]) -> ThreadingHTTPServer:
    try:
        server = ThreadingHTTPServer((host, 0), handler)
    except OSError:
        pytest.skip(f"cannot listen on {host}")
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class _Quiet(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


class _FeedHandler(_Quiet):
    def do_GET(self) -> None:  # noqa: N802 - http.server API
        if self.path.startswith("/hop"):
            self.send_response(302)
            self.send_header("Location", "/cal.ics")
            self.end_headers()
            return
        body = FEED.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def answering(*ips: str) -> Resolver:
    """A resolver that gives every name the addresses `ips`."""

    def resolve(host: str, port: int) -> Sequence[AddrInfo]:
        return [_row(ip, port) for ip in ips]

    return resolve


def rebinding(first: str, then: str) -> Resolver:
    """A resolver whose first answer is `first` and every later one `then` (DNS rebinding)."""
    calls = 0

    def resolve(host: str, port: int) -> Sequence[AddrInfo]:
        nonlocal calls
        calls += 1
        return [_row(first if calls == 1 else then, port)]

    return resolve


def _row(ip: str, port: int) -> AddrInfo:
    if ":" in ip:
        return (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (ip, port, 0, 0))
    return (socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port))


def fetch(
    kind: str, url: str, policy: AddressPolicy = STRICT, resolve: Resolver = system_resolve
) -> str | None:
    source: IcsSource | CalDavSource
    if kind == "ics":
        source = IcsSource(url, UTC_ZONE, timeout=2, policy=policy, resolve=resolve)
    else:
        source = CalDavSource(url, UTC_ZONE, timeout=2, policy=policy, resolve=resolve)
    return fetch_busy(source, WINDOW, label="Ana").error


KINDS = ["ics", "caldav"]

# --- nothing inside is ever contacted ---------------------------------------------------------

LOOPBACK_SPELLINGS = [
    "http://127.0.0.1:{port}/cal.ics",
    "https://127.0.0.1:{port}/cal.ics",
    "http://localhost:{port}/cal.ics",
    "http://2130706433:{port}/cal.ics",  # decimal
    "http://0x7f.1:{port}/cal.ics",  # hex, short form
    "http://0x7f000001:{port}/cal.ics",
    "http://017700000001:{port}/cal.ics",  # octal
    "http://0177.0.0.1:{port}/cal.ics",
    "http://127.1:{port}/cal.ics",
    "http://[::1]:{port}/cal.ics",
    "http://[::ffff:127.0.0.1]:{port}/cal.ics",  # IPv4-mapped
    "http://[::ffff:7f00:1]:{port}/cal.ics",
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("template", LOOPBACK_SPELLINGS)
def test_loopback_in_any_spelling_is_refused_without_connecting(
    recorder: Recorder, kind: str, template: str
) -> None:
    url = template.format(port=recorder.port)
    with pytest.raises(BlockedAddress):
        check_url(url, STRICT)
    assert fetch(kind, url) == BLOCKED
    assert recorder.connections() == []


def test_webcal_is_https_and_guarded_too(recorder: Recorder) -> None:
    url = f"webcal://127.0.0.1:{recorder.port}/cal.ics"
    with pytest.raises(BlockedAddress):
        check_url(url, STRICT)
    assert fetch("ics", url) == BLOCKED
    assert recorder.connections() == []


@pytest.mark.parametrize("kind", KINDS)
def test_public_looking_name_that_resolves_to_loopback(recorder: Recorder, kind: str) -> None:
    url = f"http://calendar.example.com:{recorder.port}/cal.ics"
    with pytest.raises(BlockedAddress):
        check_url(url, STRICT, resolve=answering("127.0.0.1"))
    assert fetch(kind, url, resolve=answering("127.0.0.1")) == BLOCKED
    assert fetch(kind, url, resolve=answering(PUBLIC_IP, "127.0.0.1")) == BLOCKED
    assert recorder.connections() == []


@pytest.mark.parametrize("kind", KINDS)
def test_dns_rebinding_between_check_and_connect(recorder: Recorder, kind: str) -> None:
    """The link passes its check with a public answer; the fetch then gets 127.0.0.1."""
    url = f"http://calendar.example.com:{recorder.port}/cal.ics"
    resolve = rebinding(PUBLIC_IP, "127.0.0.1")
    check_url(url, STRICT, resolve=resolve)  # passes: the first answer is public
    assert fetch(kind, url, resolve=resolve) == BLOCKED
    assert recorder.connections() == []


def _redirecting_to(location: str, hits: list[str]) -> type[BaseHTTPRequestHandler]:
    class Redirect(_Quiet):
        def answer(self) -> None:
            hits.append(self.command)
            self.send_response(307)
            self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_PROPFIND = do_REPORT = do_OPTIONS = answer  # noqa: N815 - http.server API

    return Redirect


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("target", ["127.0.0.1", "localhost"])
def test_redirect_from_an_allowed_server_to_loopback(
    recorder: Recorder, kind: str, target: str
) -> None:
    """The allowed server (127.0.0.2, allowed by the policy) sends us to the recorder."""
    hits: list[str] = []
    location = f"http://{target}:{recorder.port}/cal.ics"
    server = _serve("127.0.0.2", _redirecting_to(location, hits))
    try:
        url = f"http://127.0.0.2:{server.server_address[1]}/cal.ics"
        assert fetch(kind, url, policy=AddressPolicy.parse("127.0.0.2/32")) == BLOCKED
    finally:
        server.shutdown()
        server.server_close()
    assert hits, "the allowed server was asked first"
    assert recorder.connections() == []


@pytest.mark.parametrize(
    ("kind", "location"),
    [
        ("ics", "file:///etc/passwd"),
        ("ics", "ftp://127.0.0.2/x"),
        ("caldav", "http+unix://%2Ftmp%2Fx/"),
    ],
)
def test_redirect_to_another_scheme_is_refused(kind: str, location: str) -> None:
    hits: list[str] = []
    server = _serve("127.0.0.1", _redirecting_to(location, hits))
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/cal.ics"
        error = fetch(kind, url, policy=LOOPBACK)
    finally:
        server.shutdown()
        server.server_close()
    assert hits
    assert error == (
        "Calendar of Ana could not be read: the calendar address, or a redirect from it, "
        "is not http(s)"
    )


@pytest.mark.parametrize("kind", KINDS)
def test_open_and_closed_ports_give_the_same_answer(recorder: Recorder, kind: str) -> None:
    """No port-scanner signal: a blocked address reads the same whether anything listens."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    closed = probe.getsockname()[1]
    probe.close()
    answers = {
        fetch(kind, f"http://127.0.0.1:{port}/cal.ics") for port in (recorder.port, closed)
    } | {
        fetch(kind, f"http://inside.example.com:{port}/", resolve=answering("127.0.0.1"))
        for port in (recorder.port, closed)
    }
    assert answers == {BLOCKED}
    assert recorder.connections() == []


# --- allowed networks and the normal path -----------------------------------------------------


def test_an_allowed_network_can_be_read_and_only_that_one() -> None:
    server = _serve("127.0.0.1", _FeedHandler)
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/cal.ics"
        ics = IcsSource(url, UTC_ZONE, policy=AddressPolicy.parse("127.0.0.0/8"))
        assert ics.fetch(WINDOW) == EXPECTED
        hop = IcsSource(url.replace("cal.ics", "hop"), UTC_ZONE, policy=LOOPBACK)
        assert hop.fetch(WINDOW) == EXPECTED  # redirects inside the allowed range still work
        assert fetch("ics", url, policy=AddressPolicy.parse("127.0.0.2/32")) == BLOCKED
        assert fetch("ics", url) == BLOCKED
        check_url(url, LOOPBACK)
    finally:
        server.shutdown()
        server.server_close()


def test_source_for_passes_the_policy_and_defaults_to_strict() -> None:
    url = "http://127.0.0.1:9/cal.ics"
    for kind in KINDS:
        assert source_for(kind, url, zone=UTC_ZONE).policy == STRICT  # type: ignore[attr-defined]
        chosen = source_for(kind, url, zone=UTC_ZONE, policy=LOOPBACK)
        assert chosen.policy == LOOPBACK  # type: ignore[attr-defined]


# --- check_url --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["ftp://example.com/a.ics", "file:///etc/passwd", "/etc/passwd", "gopher://x/", "http:///x"],
)
def test_check_url_wants_an_http_address_with_a_host(url: str) -> None:
    with pytest.raises(SourceUnavailable):
        check_url(url, STRICT, resolve=answering(PUBLIC_IP))


def test_check_url_accepts_public_addresses() -> None:
    for url in (
        "https://calendar.example.com/private/basic.ics",
        "webcal://calendar.example.com/basic.ics",
        "http://calendar.example.com:8080/dav/",
    ):
        check_url(url, STRICT, resolve=answering(PUBLIC_IP, "2a00:1450:4001::1"))
    check_url(f"https://{PUBLIC_IP}/cal.ics", STRICT)  # a literal needs no resolver


def test_check_url_reports_bad_ports_and_unknown_names() -> None:
    with pytest.raises(SourceUnavailable, match="invalid port"):
        check_url("http://example.com:99999/", STRICT, resolve=answering(PUBLIC_IP))

    def nowhere(host: str, port: int) -> Sequence[AddrInfo]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    with pytest.raises(SourceUnavailable, match="could not be found"):
        check_url("https://nowhere.example.com/", STRICT, resolve=nowhere)


def test_the_blocked_message_names_no_host_port_or_reason() -> None:
    for ip in ("127.0.0.1", "10.1.2.3", "::1", "169.254.169.254", "not an address"):
        with pytest.raises(BlockedAddress) as info:
            STRICT.check_ip(ip)
        assert str(info.value) == BlockedAddress.MESSAGE


# --- AddressPolicy.parse ----------------------------------------------------------------------


def test_parse_reads_a_comma_separated_list() -> None:
    policy = AddressPolicy.parse(" 10.0.0.0/8, 127.0.0.1/32 ,::1/128, 192.168.1.5 ")
    assert policy.allowed_networks == tuple(
        ip_network(n) for n in ("10.0.0.0/8", "127.0.0.1/32", "::1/128", "192.168.1.5/32")
    )
    assert AddressPolicy.parse("") == AddressPolicy.parse(" , ") == STRICT


@pytest.mark.parametrize("text", ["10.0.0.1/8", "banana", "10.0.0.0/33", "10.0.0.0/8; ::1"])
def test_parse_rejects_bad_entries_clearly(text: str) -> None:
    with pytest.raises(ValueError, match="is not an IP network") as info:
        AddressPolicy.parse(text)
    assert "\n" not in str(info.value)


# --- the classifier ---------------------------------------------------------------------------

FORBIDDEN_V4 = [
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
    "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15",
    "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
]  # fmt: skip
FORBIDDEN_V6 = [
    "::/128", "::1/128", "fe80::/10", "fc00::/7", "fec0::/10", "ff00::/8", "2001:db8::/32",
    "3fff::/20", "100::/64", "2001::/32", "64:ff9b:1::/48",
]  # fmt: skip
PUBLIC_V4 = ["8.8.0.0/16", "1.1.1.0/24", "151.101.0.0/16", "17.0.0.0/8"]
PUBLIC_V6 = ["2a00:1450::/32", "2606:4700::/32", "2001:4860::/32"]


def _in(networks: list[str]) -> st.SearchStrategy[Any]:
    return st.sampled_from(networks).flatmap(lambda n: st.ip_addresses(network=n))


def wrapped(v4: IPv4Address, noise: int) -> list[IPv6Address]:
    """IPv6 spellings that lead to `v4`: mapped, compatible, 6to4, NAT64 and Teredo."""
    n = int(v4)
    return [
        IPv6Address(0xFFFF << 32 | n),
        IPv6Address(n),
        IPv6Address(0x2002 << 112 | n << 80 | noise & (2**80 - 1)),
        IPv6Address(int(ip_address("64:ff9b::")) | n),
        IPv6Address(0x2001_0000 << 96 | (noise & 0xFFFF_FFFF) << 64 | (n ^ 0xFFFF_FFFF)),
    ]


@given(_in(FORBIDDEN_V4), st.integers(min_value=0, max_value=2**80 - 1))
def test_forbidden_ipv4_and_every_ipv6_wrapping_of_it_are_refused(
    v4: IPv4Address, noise: int
) -> None:
    for ip in [v4, *wrapped(v4, noise)]:
        assert not STRICT.permits(ip), ip


@given(_in(FORBIDDEN_V6))
def test_forbidden_ipv6_is_refused(ip: IPv6Address) -> None:
    assert not STRICT.permits(ip)


@given(_in(PUBLIC_V4), st.integers(min_value=0, max_value=2**80 - 1))
def test_public_ipv4_and_its_translations_pass(v4: IPv4Address, noise: int) -> None:
    mapped, _compatible, sixtofour, nat64, _teredo = wrapped(v4, noise)
    for ip in (v4, mapped, sixtofour, nat64):
        assert STRICT.permits(ip), ip
        STRICT.check_ip(str(ip))


@given(_in(PUBLIC_V6))
def test_public_ipv6_passes(ip: IPv6Address) -> None:
    assert STRICT.permits(ip)


@given(st.ip_addresses(network="10.0.0.0/8"))
def test_allowed_networks_admit_exactly_their_range(ip: IPv4Address) -> None:
    mapped = IPv6Address(0xFFFF << 32 | int(ip))
    assert AddressPolicy.parse("10.0.0.0/8").permits(ip)
    assert AddressPolicy.parse("10.0.0.0/8").permits(mapped)
    assert not AddressPolicy.parse("192.168.0.0/16, fc00::/7").permits(ip)


@pytest.mark.parametrize("kind", KINDS)
def test_every_fetch_resolves_again(kind: str) -> None:
    """No address is remembered between refreshes: each one asks the resolver anew."""
    asked: list[str] = []

    def spy(host: str, port: int) -> Sequence[AddrInfo]:
        asked.append(host)
        return [_row("127.0.0.1", port)]

    for _ in range(2):
        assert fetch(kind, "http://cal.example.com:9/x.ics", resolve=spy) == BLOCKED
    assert asked == ["cal.example.com", "cal.example.com"]
