"""Registrations held by the embedded LwM2M server (LwM2M Core 1.1 §6.2, Transport 1.1 §6.4.3).

This module is protocol bookkeeping only: it parses Register/Update query parameters and the
CoRE link-format object list, and keeps the table of live registrations. The CoAP side lives in
:mod:`lwm2m_client.server.server`.
"""

from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from lwm2m_client.core.content import link
from lwm2m_client.core.errors import DecodeError

#: Default lifetime when a Register omits ``lt`` (LwM2M Core 1.1 §6.2.1 table: 86400 s).
DEFAULT_LIFETIME = 86400
#: LwM2M versions this server accepts in ``lwm2m=`` (absent means 1.0, Core 1.0 §5.3.1).
SUPPORTED_VERSIONS = ("1.0", "1.1", "1.2")
# Binding letters: U UDP, T TCP, S SMS, N non-IP, M MQTT, H HTTP (Core 1.1 §6.2.1.1);
# Q only in 1.0, where queue mode rides in ``b`` ("UQ", "SQ", "UQS"; Core 1.0 §5.3.1.1).
_BINDING_LETTERS = set("UTSNMHQ")

_REGISTER_PARAMS = ("ep", "lt", "lwm2m", "b", "Q", "sms", "pid")
_UPDATE_PARAMS = ("lt", "b", "Q", "sms")


class RegistrationRejected(Exception):
    """A Register or Update the server refuses; ``code`` is the CoAP answer ("4.00", ...)."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(f"{code} {reason}")
        self.code = code
        self.reason = reason


@dataclass
class Registration:
    """One client's registration, as the server sees it."""

    endpoint: str
    location: str  # the id in Location-Path rd/<location>
    lifetime: int
    binding: str
    queue_mode: bool
    lwm2m_version: str
    remote: Any  # the aiocoap remote address the client talks from
    registered_at: float
    updated_at: float
    sms: Optional[str] = None
    profile_id: Optional[str] = None
    #: oid -> sorted instance ids; an object listed without instances maps to [].
    objects: Dict[int, List[int]] = field(default_factory=dict)
    #: oid -> object version from ``ver=`` (only objects that state one; absent means 1.0).
    versions: Dict[int, str] = field(default_factory=dict)
    #: alternate path from ``</path>;rt="oma.lwm2m"`` (Core 1.1 §6.2.1.1); "/" when none.
    root_path: str = "/"
    #: content formats from the root link's ``ct`` attribute (Core 1.1 §6.2.1.1).
    content_formats: Tuple[int, ...] = ()

    @property
    def location_path(self) -> Tuple[str, str]:
        return ("rd", self.location)

    @property
    def root_segments(self) -> Tuple[str, ...]:
        """Uri-Path segments to put before every DM request path."""
        return tuple(s for s in self.root_path.split("/") if s)

    def instances(self, oid: int) -> List[int]:
        return self.objects.get(oid, [])


def _split_query(queries: Iterable[str], allowed: Sequence[str]) -> Dict[str, Optional[str]]:
    """Uri-Query options -> dict; ``Q`` is a flag without value (Core 1.1 §6.2.1 table)."""
    params: Dict[str, Optional[str]] = {}
    for item in queries:
        name, eq, value = item.partition("=")
        if name not in allowed:
            raise RegistrationRejected("4.00", f"unknown parameter {name!r}")
        if name in params:
            raise RegistrationRejected("4.00", f"repeated parameter {name!r}")
        if name == "Q":
            if eq:
                raise RegistrationRejected("4.00", "Q takes no value")
            params[name] = None
        else:
            if not eq:
                raise RegistrationRejected("4.00", f"parameter {name!r} needs a value")
            params[name] = value
    return params


def _parse_lifetime(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise RegistrationRejected("4.00", f"bad lifetime {text!r}")
    return int(text)


def _parse_binding(text: str) -> str:
    if not text or not set(text) <= _BINDING_LETTERS:
        raise RegistrationRejected("4.00", f"bad binding {text!r}")
    return text


def parse_register_query(queries: Iterable[str]) -> Dict[str, Any]:
    """Validate Register parameters; returns a dict of Registration fields.

    Missing ``ep`` is 4.00: without DTLS there is no certificate to take the name from
    (Core 1.1 §6.2.1). An unsupported ``lwm2m`` version is 4.12 (Transport 1.1 §6.4.3).
    """
    params = _split_query(queries, _REGISTER_PARAMS)
    endpoint = params.get("ep")
    if not endpoint:
        raise RegistrationRejected("4.00", "missing endpoint name")
    version = params.get("lwm2m") or "1.0"
    if version not in SUPPORTED_VERSIONS:
        raise RegistrationRejected("4.12", f"unsupported LwM2M version {version!r}")
    binding = _parse_binding(params.get("b") or "U")
    if "Q" in binding and version != "1.0":
        # 1.1+ carries queue mode in its own flag, ``b`` lists transports only.
        raise RegistrationRejected("4.00", "Q in binding is 1.0 syntax")
    lifetime = params.get("lt")
    return {
        "endpoint": endpoint,
        "lifetime": _parse_lifetime(lifetime) if lifetime is not None else DEFAULT_LIFETIME,
        "lwm2m_version": version,
        "binding": binding,
        "queue_mode": "Q" in params or "Q" in binding,
        "sms": params.get("sms"),
        "profile_id": params.get("pid"),
    }


def parse_update_query(queries: Iterable[str], version: str) -> Dict[str, Any]:
    """Validate Update parameters (all optional); returns only the fields given."""
    params = _split_query(queries, _UPDATE_PARAMS)
    changes: Dict[str, Any] = {}
    if params.get("lt") is not None:
        changes["lifetime"] = _parse_lifetime(params["lt"] or "")
    if params.get("b") is not None:
        binding = _parse_binding(params["b"] or "")
        if "Q" in binding and version != "1.0":
            raise RegistrationRejected("4.00", "Q in binding is 1.0 syntax")
        changes["binding"] = binding
        if version == "1.0":
            changes["queue_mode"] = "Q" in binding
    if "Q" in params:
        changes["queue_mode"] = True
    if params.get("sms") is not None:
        changes["sms"] = params["sms"]
    return changes


def _content_formats(value: Any) -> Tuple[int, ...]:
    try:
        return tuple(int(v) for v in str(value).split())
    except ValueError:
        raise RegistrationRejected("4.00", f"bad ct attribute {value!r}") from None


def parse_object_links(payload: bytes) -> Dict[str, Any]:
    """Parse the Register/Update object list (Core 1.1 §6.2.1.1); returns Registration fields.

    ``</>;ct="110 112"`` or ``</lwm2m>;rt="oma.lwm2m";ct=11543`` names the root (alternate
    path) and its formats; every other link is ``</[root]/oid>`` or ``</[root]/oid/iid>``.
    """
    try:
        links = link.decode_links(payload)
    except DecodeError as exc:
        raise RegistrationRejected("4.00", f"bad link format: {exc}") from None
    root = "/"
    formats: Tuple[int, ...] = ()
    for target, attrs in links:
        if attrs.get("rt") == "oma.lwm2m" or target == "/":
            root = target.rstrip("/") or "/"
            if attrs.get("ct") is not None:
                formats = _content_formats(attrs["ct"])
    prefix = "" if root == "/" else root
    objects: Dict[int, List[int]] = {}
    versions: Dict[int, str] = {}
    for target, attrs in links:
        if target.rstrip("/") in ("", root):
            continue
        if not target.startswith(prefix + "/"):
            raise RegistrationRejected("4.00", f"link {target!r} outside root {root!r}")
        ids = _link_ids(target[len(prefix) :])
        instances = objects.setdefault(ids[0], [])
        if len(ids) == 2 and ids[1] not in instances:
            instances.append(ids[1])
            instances.sort()
        if attrs.get("ver") is not None:
            versions[ids[0]] = str(attrs["ver"])
    return {"objects": objects, "versions": versions, "root_path": root, "content_formats": formats}


def _link_ids(target: str) -> Tuple[int, ...]:
    parts = target.strip("/").split("/")
    if not 1 <= len(parts) <= 2 or not all(p.isdigit() and int(p) <= 65535 for p in parts):
        raise RegistrationRejected("4.00", f"bad object link {target!r}")
    return tuple(int(p) for p in parts)


class Registry:
    """Live registrations, keyed by location id and by endpoint name."""

    def __init__(self) -> None:
        self._by_location: Dict[str, Registration] = {}
        self._by_endpoint: Dict[str, Registration] = {}
        self._serial = itertools.count(1)

    def new_location(self) -> str:
        # A counter keeps ids short and unique; the random part makes a stale id from an
        # earlier server run useless, so an old client gets 4.04 and re-registers.
        return f"{next(self._serial)}{secrets.token_hex(2)}"

    def add(self, reg: Registration) -> Optional[Registration]:
        """Store ``reg``; returns the registration of the same endpoint it replaces."""
        old = self._by_endpoint.get(reg.endpoint)
        if old is not None:
            del self._by_location[old.location]
        self._by_location[reg.location] = reg
        self._by_endpoint[reg.endpoint] = reg
        return old

    def remove(self, reg: Registration) -> None:
        if self._by_location.get(reg.location) is reg:
            del self._by_location[reg.location]
            del self._by_endpoint[reg.endpoint]

    def by_location(self, location: str) -> Optional[Registration]:
        return self._by_location.get(location)

    def by_endpoint(self, endpoint: str) -> Optional[Registration]:
        return self._by_endpoint.get(endpoint)

    def by_remote(self, remote: Any) -> Optional[Registration]:
        for reg in self._by_location.values():
            if reg.remote == remote:
                return reg
        return None

    def all(self) -> List[Registration]:
        return list(self._by_location.values())

    def __len__(self) -> int:
        return len(self._by_location)
