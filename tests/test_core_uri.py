"""Server URIs parsed by the core (MicroPython-safe, no urllib): RFC 7252 section 6."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lwm2m_client.core.errors import UsageError
from lwm2m_client.core.uri import UriError, is_numeric_host, parse_uri


@pytest.mark.parametrize("uri, expected", [
    ("coap://lwm2m.example.net", ("coap", "lwm2m.example.net", 5683)),
    ("coap://10.0.0.1:5690/", ("coap", "10.0.0.1", 5690)),
    ("COAPS://h", ("coaps", "h", 5684)),
    ("coap+tcp://h", ("coap+tcp", "h", 5683)),
    ("coaps+tcp://h:1", ("coaps+tcp", "h", 1)),
    ("coap://[::1]:5683", ("coap", "::1", 5683)),
    ("coap://[2001:db8::7]", ("coap", "2001:db8::7", 5683)),
])
def test_good_uris(uri, expected):
    assert parse_uri(uri) == expected


@pytest.mark.parametrize("uri, why", [
    ("lwm2m.example.net:5683", "no scheme"),
    ("http://h", "scheme must be"),
    ("coap://", "no host"),
    ("coap://:5683", "no host"),
    ("coap://h:", "empty port"),
    ("coap://h:0", "port must be"),
    ("coap://h:65536", "port must be"),
    ("coap://h:56x3", "port must be"),
    ("coap://h/rd", "path"),
    ("coap://h?x=1", "query"),
    ("coap://u@h", "user information"),
    ("coap://[::1", "unclosed"),
    ("coap://[::1]x", "junk"),
    ("coap://[h]", "no IPv6"),
])
def test_bad_uris_name_the_problem(uri, why):
    with pytest.raises(UriError, match=why) as info:
        parse_uri(uri)
    assert repr(uri) in str(info.value) and isinstance(info.value, UsageError)


@given(st.text(max_size=40))
def test_any_text_parses_or_raises_uri_error(text):
    try:
        scheme, host, port = parse_uri(text)
    except UriError:
        return
    assert host and 0 < port < 65536 and scheme.startswith("coap")


def test_numeric_hosts():
    assert is_numeric_host("192.168.1.20") and is_numeric_host("::1")
    assert not is_numeric_host("meter.example") and not is_numeric_host("1.2.3.256")
