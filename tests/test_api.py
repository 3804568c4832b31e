"""The import surface: every advertised name resolves, and lazily."""

from __future__ import annotations

import subprocess
import sys

import pytest

import lwm2m_client
import lwm2m_client.core


def advertised() -> list[str]:
    return sorted(set(lwm2m_client._API) | set(lwm2m_client.core.__all__))


@pytest.mark.parametrize("name", advertised())
def test_every_name_resolves(name):
    assert getattr(lwm2m_client, name) is not None
    assert name in dir(lwm2m_client)


def test_core_names_are_the_core_objects():
    from lwm2m_client.core.client.engine import ClientCore
    from lwm2m_client.core.errors import UsageError

    assert lwm2m_client.ClientCore is ClientCore is lwm2m_client.core.ClientCore
    assert lwm2m_client.UsageError is UsageError


def test_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="NoSuchThing"):
        lwm2m_client.NoSuchThing  # noqa: B018
    with pytest.raises(AttributeError, match="no_such_module"):
        lwm2m_client.core.no_such_module  # noqa: B018


def test_the_data_model_loads_without_aiocoap():
    code = ("import sys; from lwm2m_client import ObjectTree, ClientCore; "
            "print('aiocoap' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "False"
