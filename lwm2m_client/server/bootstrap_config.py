"""What the embedded Bootstrap-Server writes to each client, and the keys it hands out.

A :class:`BootstrapConfig` lists the LwM2M Server accounts of one endpoint (each becomes a
Security ``/0`` and a Server ``/1`` instance, LwM2M Core 1.1 §6.1.7.5) with optional Access
Control ``/2`` instances, and how the bootstrap sequence runs: Discover, Read, which Delete,
instance- or object-level writes, the content format.

Credentials are per meter (the utility seeds ask for "no universal passwords"): an account in
PSK mode without a key gets a fresh random key for each endpoint, drawn with :mod:`secrets`
and kept in a :class:`CredentialStore`, so the same endpoint gets the same key on every
bootstrap and two endpoints never share one. The PSK identity defaults to the endpoint name.

Configurations come from Python objects or from YAML (:func:`load_configs`, see
``examples/bootstrap.yaml``); anything wrong raises :class:`ConfigError` with one line that
names the file and the field.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Dict, List, Mapping, NamedTuple, Optional, Sequence, Tuple, Union

from lwm2m_client.core.content import CF_LWM2M_CBOR, CF_SENML_CBOR, CF_SENML_JSON, CF_TLV

# Security Mode /0/x/2 values (Transport 1.1 §5.2.8); only PSK and NoSec carry credentials
# the Bootstrap-Server can make up itself.
SECURITY_MODES = {"psk": 0, "nosec": 3}
# Bootstrap-Delete targets (Core 1.1 §6.1.7.6); None sends no Delete.
DELETE_TARGETS = ("/", "/0", "/1")
# Bootstrap-Read targets (Core 1.2 §6.1.7.4 allows /1 and /2).
READ_TARGETS = ("/1", "/2")
WRITE_MODES = ("instance", "object")
# Formats a Bootstrap-Write may use, the ones ``pct`` may name (Core 1.2 §6.1.7.1).
WRITE_FORMATS = (CF_TLV, CF_SENML_JSON, CF_SENML_CBOR, CF_LWM2M_CBOR)
VERSIONS = ("1.0", "1.1", "1.2")
_BINDING_LETTERS = set("UTSNMHQ")
# A PSK key is at most 64 bytes, an identity at most 128 (Transport 1.1 §5.2.8.1).
MAX_KEY_LENGTH = 64
MAX_IDENTITY_LENGTH = 128


class ConfigError(ValueError):
    """A bootstrap configuration that cannot be used; the one-line message names the field."""


def _fail(name: str, problem: str) -> ConfigError:
    return ConfigError(f"{name}: {problem}")


def _check_int(name: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _fail(name, f"must be an integer {low}..{high}, got {value!r}")
    return value


def _as_bytes(name: str, value: Any) -> bytes:
    """Bytes as given, or a hex string (what a YAML file can spell without !!binary)."""
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, str):
        try:
            return bytes.fromhex(value)
        except ValueError:
            raise _fail(name, "must be bytes or a hex string") from None
    raise _fail(name, f"must be bytes or a hex string, got {type(value).__name__}")


def _check_resources(name: str, value: Any) -> Dict[int, Any]:
    if not isinstance(value, Mapping):
        raise _fail(name, "must map resource ids to values")
    for rid in value:
        _check_int(f"{name}.{rid}", rid, 0, 65535)
    return dict(value)


@dataclass
class ServerAccount:
    """One LwM2M Server account: a Security ``/0`` and a Server ``/1`` instance.

    ``security`` is "psk" or "nosec" (None: "psk" for a ``coaps://`` URI, else "nosec").
    ``psk_identity`` may contain ``{ep}`` for the endpoint name (None: the endpoint name);
    ``psk_key`` None draws a per-endpoint key of ``key_length`` bytes. ``security_instance``
    and ``server_instance`` default to the account's position (+1 for Security, whose
    instance 0 is usually the client's Bootstrap-Server account). ``security_resources`` and
    ``server_resources`` add other resources (e.g. ``{11: 5}`` Client Hold Off Time, or
    ``{23: False}`` Mute Send).
    """

    uri: str
    ssid: int
    lifetime: int = 86400
    binding: str = "U"
    security: Optional[str] = None
    psk_identity: Optional[str] = None
    psk_key: Optional[bytes] = field(default=None, repr=False)  # keep keys out of logs
    key_length: int = 16
    pmin: Optional[int] = None
    pmax: Optional[int] = None
    notification_storing: bool = True
    security_instance: Optional[int] = None
    server_instance: Optional[int] = None
    security_resources: Dict[int, Any] = field(default_factory=dict)
    server_resources: Dict[int, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.uri, str) or not self.uri.startswith(("coap://", "coaps://")):
            raise _fail("uri", f"must be a coap:// or coaps:// URI, got {self.uri!r}")
        _check_int("ssid", self.ssid, 1, 65534)  # 0 and 65535 are reserved (Obj 0 res 10)
        _check_int("lifetime", self.lifetime, 1, 2**31 - 1)
        if not isinstance(self.binding, str) or not self.binding \
                or not set(self.binding) <= _BINDING_LETTERS:
            raise _fail("binding", f"must be letters of UTSNMHQ, got {self.binding!r}")
        secure = self.uri.startswith("coaps://")
        if self.security is None:
            self.security = "psk" if secure else "nosec"
        if self.security not in SECURITY_MODES:
            raise _fail("security", f"must be one of {sorted(SECURITY_MODES)}, "
                                    f"got {self.security!r}")
        # The URI scheme and the mode must agree, or the client cannot connect (T1.1 §5.2).
        if secure != (self.security == "psk"):
            raise _fail("security", f"{self.security} does not fit the URI {self.uri!r}")
        if self.psk_identity is not None and not isinstance(self.psk_identity, str):
            raise _fail("psk_identity", "must be a string")
        if self.psk_key is not None:
            self.psk_key = _as_bytes("psk_key", self.psk_key)
            if not 1 <= len(self.psk_key) <= MAX_KEY_LENGTH:
                raise _fail("psk_key", f"must be 1..{MAX_KEY_LENGTH} bytes")
            if self.security != "psk":
                raise _fail("psk_key", "only PSK accounts take a key")
        _check_int("key_length", self.key_length, 1, MAX_KEY_LENGTH)
        for name in ("pmin", "pmax"):
            if getattr(self, name) is not None:
                _check_int(name, getattr(self, name), 0, 2**31 - 1)
        if not isinstance(self.notification_storing, bool):
            raise _fail("notification_storing", "must be true or false")
        for name in ("security_instance", "server_instance"):
            if getattr(self, name) is not None:
                _check_int(name, getattr(self, name), 0, 65534)
        self.security_resources = _check_resources("security_resources",
                                                   self.security_resources)
        self.server_resources = _check_resources("server_resources", self.server_resources)

    @property
    def mode(self) -> int:
        """The Security Mode resource value /0/x/2."""
        return SECURITY_MODES[self.security or "nosec"]


@dataclass
class AclInstance:
    """An Access Control ``/2`` instance (Core 1.1 §8): ``acl`` maps SSID (0 = everyone
    else) to the R=1 W=2 E=4 D=8 C=16 bits; ``iid`` 65535 is the object-level instance."""

    oid: int
    iid: int
    acl: Dict[int, int] = field(default_factory=dict)
    owner: int = 65535
    instance: Optional[int] = None

    def __post_init__(self) -> None:
        _check_int("oid", self.oid, 0, 65535)
        _check_int("iid", self.iid, 0, 65535)
        _check_int("owner", self.owner, 0, 65535)
        if not isinstance(self.acl, Mapping):
            raise _fail("acl", "must map SSIDs to access bits")
        for ssid, bits in self.acl.items():
            _check_int("acl", ssid, 0, 65535)
            _check_int(f"acl.{ssid}", bits, 0, 31)
        if self.instance is not None:
            _check_int("instance", self.instance, 0, 65534)


@dataclass
class BootstrapConfig:
    """Everything the Bootstrap-Server does for one endpoint.

    ``discover`` sends Bootstrap-Discover ``GET /`` first; ``read`` ("/1" or "/2") sends a
    Bootstrap-Read; ``delete`` is the Bootstrap-Delete target ("/", "/0", "/1", None for
    none); ``write`` is "instance" (``PUT /0/1``, ``PUT /1/0`` ...) or "object" (``PUT /0``
    with every Security instance in one payload); ``content_format`` overrides the format
    otherwise taken from the request's ``pct`` or from ``lwm2m_version`` (TLV for 1.0,
    SenML CBOR for 1.1 and 1.2).
    """

    servers: List[ServerAccount] = field(default_factory=list)
    acls: List[AclInstance] = field(default_factory=list)
    discover: bool = False
    read: Optional[str] = None
    delete: Optional[str] = "/"
    write: str = "instance"
    content_format: Optional[int] = None
    lwm2m_version: str = "1.1"

    def __post_init__(self) -> None:
        self.servers = list(self.servers)
        self.acls = list(self.acls)
        if not self.servers:
            # A client needs at least one Server account (Core 1.1 §6.1.2).
            raise _fail("servers", "at least one LwM2M Server account is needed")
        for index, account in enumerate(self.servers):
            if not isinstance(account, ServerAccount):
                raise _fail(f"servers[{index}]", "must be a ServerAccount")
        self._check_unique("ssid", [a.ssid for a in self.servers])
        self._check_unique("security_instance", [i for i, _ in self.security_instances()])
        self._check_unique("server_instance", [i for i, _ in self.server_instances()])
        for index, acl in enumerate(self.acls):
            if not isinstance(acl, AclInstance):
                raise _fail(f"acls[{index}]", "must be an AclInstance")
        self._check_unique("acls instance", [i for i, _ in self.acl_instances()])
        if not isinstance(self.discover, bool):
            raise _fail("discover", "must be true or false")
        if self.read not in (None,) + READ_TARGETS:
            raise _fail("read", f"must be one of {list(READ_TARGETS)} or null")
        if self.delete not in (None,) + DELETE_TARGETS:
            raise _fail("delete", f"must be one of {list(DELETE_TARGETS)} or null")
        if self.write not in WRITE_MODES:
            raise _fail("write", f"must be one of {list(WRITE_MODES)}")
        if self.content_format is not None:
            if self.content_format not in WRITE_FORMATS:
                raise _fail("content_format", f"must be one of {list(WRITE_FORMATS)}")
        if self.lwm2m_version not in VERSIONS:
            raise _fail("lwm2m_version", f"must be one of {list(VERSIONS)}")

    @staticmethod
    def _check_unique(name: str, values: Sequence[int]) -> None:
        seen = set()
        for value in values:
            if value in seen:
                raise _fail(name, f"{value} is used twice")
            seen.add(value)

    def security_instances(self) -> List[Tuple[int, ServerAccount]]:
        return [(a.security_instance if a.security_instance is not None else n + 1, a)
                for n, a in enumerate(self.servers)]

    def server_instances(self) -> List[Tuple[int, ServerAccount]]:
        return [(a.server_instance if a.server_instance is not None else n, a)
                for n, a in enumerate(self.servers)]

    def acl_instances(self) -> List[Tuple[int, AclInstance]]:
        return [(a.instance if a.instance is not None else n, a)
                for n, a in enumerate(self.acls)]

    def values(self, endpoint: str, store: CredentialStore) -> Dict[Tuple[int, ...], Any]:
        """What this configuration writes to ``endpoint``, path -> value: the Security,
        Server and ACL instances (the ACL resource /2/x/2 as a dict SSID -> bits), with the
        endpoint's PSK credentials from ``store`` (drawn there on first use)."""
        values: Dict[Tuple[int, ...], Any] = {}
        for iid, account in self.security_instances():
            identity, key = b"", b""
            if account.security == "psk":
                creds = store.credentials(endpoint, account)
                identity, key = creds.identity.encode(), creds.key
            # Resources 0-5 are mandatory in Obj 0; 4 is unused in PSK and NoSec.
            security = {0: account.uri, 1: False, 2: account.mode, 3: identity, 4: b"",
                        5: key, 10: account.ssid}
            security.update(account.security_resources)
            values.update({(0, iid, rid): v for rid, v in security.items()})
        for iid, account in self.server_instances():
            server = {0: account.ssid, 1: account.lifetime, 6: account.notification_storing,
                      7: account.binding}
            if account.pmin is not None:
                server[2] = account.pmin
            if account.pmax is not None:
                server[3] = account.pmax
            server.update(account.server_resources)
            values.update({(1, iid, rid): v for rid, v in server.items()})
        for iid, acl in self.acl_instances():
            values.update({(2, iid, 0): acl.oid, (2, iid, 1): acl.iid, (2, iid, 3): acl.owner})
            if acl.acl:
                values[(2, iid, 2)] = dict(acl.acl)
        return values

    @classmethod
    def from_dict(cls, data: Any) -> BootstrapConfig:
        """Build from plain data (parsed YAML); errors name the field path."""
        values = _fields_of(cls, data, "", exclude=("servers", "acls"))
        servers = data.get("servers", [])
        if not isinstance(servers, list):
            raise _fail("servers", "must be a list")
        values["servers"] = [_build(ServerAccount, item, f"servers[{n}]")
                             for n, item in enumerate(servers)]
        acls = data.get("acls", [])
        if not isinstance(acls, list):
            raise _fail("acls", "must be a list")
        values["acls"] = [_build(AclInstance, item, f"acls[{n}]") for n, item in enumerate(acls)]
        return cls(**values)

    @classmethod
    def from_yaml(cls, path: Union[str, Path]) -> BootstrapConfig:
        """One configuration from a YAML file whose top level is a configuration."""
        data = _read_yaml(path)
        try:
            return cls.from_dict(data)
        except ConfigError as exc:
            raise ConfigError(f"{path}: {exc}") from None


def _fields_of(cls: Any, data: Any, where: str, exclude: Sequence[str] = ()
               ) -> Dict[str, Any]:
    prefix = f"{where}." if where else ""
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where or 'top level'}: must be a mapping")
    names = {f.name for f in fields(cls)}
    for key in data:
        if key not in names:
            raise ConfigError(f"{prefix}{key}: unknown field")
    return {k: v for k, v in data.items() if k not in exclude}


def _build(cls: Any, data: Any, where: str) -> Any:
    values = _fields_of(cls, data, where)
    try:
        return cls(**values)
    except TypeError:
        missing = [f.name for f in fields(cls) if f.name not in values]
        raise ConfigError(f"{where}: missing field(s) {', '.join(missing)}") from None
    except ConfigError as exc:
        raise ConfigError(f"{where}.{exc}") from None


class ConfigSet(NamedTuple):
    """What a bootstrap YAML file holds: per-endpoint configurations and the default."""

    configs: Dict[str, BootstrapConfig]
    default: Optional[BootstrapConfig]


def _read_yaml(path: Union[str, Path]) -> Any:
    import yaml

    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(f"{path}: invalid YAML{where}: {problem}") from None


def load_configs(path: Union[str, Path]) -> ConfigSet:
    """Read a YAML file with ``endpoints:`` (name -> configuration) and/or ``default:``."""
    data = _read_yaml(path)
    if not isinstance(data, Mapping):
        raise ConfigError(f"{path}: top level must be a mapping with endpoints/default")
    for key in data:
        if key not in ("endpoints", "default"):
            raise ConfigError(f"{path}: {key}: unknown field (expected endpoints, default)")
    endpoints = data.get("endpoints") or {}
    if not isinstance(endpoints, Mapping):
        raise ConfigError(f"{path}: endpoints: must map endpoint names to configurations")
    configs: Dict[str, BootstrapConfig] = {}
    where = ""
    try:
        for name, item in endpoints.items():
            where = f"endpoints.{name}."
            configs[str(name)] = BootstrapConfig.from_dict(item)
        default = None
        if data.get("default") is not None:
            where = "default."
            default = BootstrapConfig.from_dict(data["default"])
    except ConfigError as exc:
        raise ConfigError(f"{path}: {where}{exc}") from None
    return ConfigSet(configs, default)


class PskCredentials(NamedTuple):
    identity: str
    key: bytes

    def __repr__(self) -> str:  # keep keys out of logs and test reports
        return f"PskCredentials(identity={self.identity!r}, key=<{len(self.key)} bytes>)"


class CredentialStore:
    """PSK credentials handed out, per (endpoint, SSID).

    A key is drawn once per endpoint and account and then reused, so a client bootstrapped
    twice gets the same key and two clients never share one. Share one store between a
    Bootstrap-Server and whatever checks the DTLS handshake on the LwM2M Server side.
    """

    def __init__(self) -> None:
        self._items: Dict[Tuple[str, int], PskCredentials] = {}

    def credentials(self, endpoint: str, account: ServerAccount) -> PskCredentials:
        key = (endpoint, account.ssid)
        identity = (account.psk_identity or "{ep}").replace("{ep}", endpoint)
        if len(identity.encode()) > MAX_IDENTITY_LENGTH:
            raise _fail("psk_identity", f"longer than {MAX_IDENTITY_LENGTH} bytes")
        known = self._items.get(key)
        if account.psk_key is not None:
            creds = PskCredentials(identity, account.psk_key)
        elif known is not None and len(known.key) == account.key_length:
            creds = PskCredentials(identity, known.key)
        else:
            creds = PskCredentials(identity, secrets.token_bytes(account.key_length))
        self._items[key] = creds
        return creds

    def get(self, endpoint: str, ssid: int) -> Optional[PskCredentials]:
        return self._items.get((endpoint, ssid))

    def of_endpoint(self, endpoint: str) -> Dict[int, PskCredentials]:
        """SSID -> credentials of ``endpoint``."""
        return {ssid: c for (ep, ssid), c in self._items.items() if ep == endpoint}

    def by_identity(self, identity: str) -> List[Tuple[str, int, bytes]]:
        """(endpoint, ssid, key) for a PSK identity, as a DTLS server would look it up."""
        return [(ep, ssid, c.key) for (ep, ssid), c in self._items.items()
                if c.identity == identity]

    def __len__(self) -> int:
        return len(self._items)
