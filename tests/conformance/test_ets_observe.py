"""OMA ETS 1.1 observation cases (LightweightM2M-1.1-int-301, 302, 303) over loopback.

The rig's Server object is configuration C.3: Default Minimum Period 1 s and Default
Maximum Period 10 s (/1/0/2, /1/0/3), which the cases rely on. The device application
changes a value with ``tree.set`` and the adapter's next wake-up hands the change to the
core (``client.changed()`` stands for that wake-up here).

int-302 cancels by Reset, which is how the server's CoAP stack (aiocoap) forgets an
observation. int-303 cancels with a GET carrying Observe=1 on the observation's token
(RFC 7641 section 3.6); aiocoap picks every request's token itself, so
:func:`reusing_token` hands its token manager the observation's token for that one
request.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Iterator

import aiocoap
from aiocoap.tokenmanager import TokenManager
from ets_rig import ENDPOINT

from lwm2m_client.core.coap import message as m
from lwm2m_client.core.coap.message import decode
from lwm2m_client.core.content import CF_TLV
from lwm2m_client.server.codec import as_path

BATTERY = "/3/0/9"


async def test_int_301_observation_and_notification_of_parameter_values(ets):
    rig = await ets()
    # Step 1: Write-Attributes pmin=1, pmax=2 on /3/0/9; pass: 2.04.
    assert (await rig.server.write_attributes(ENDPOINT, BATTERY, pmin=1, pmax=2)).ok
    # Step 2: Observe /3/0/9; pass: 2.05 with an Observe option and the value.
    observation = await rig.server.observe(ENDPOINT, BATTERY, format=CF_TLV)
    assert observation.active and observation.response.value == 100
    started = time.monotonic()
    # Step 3: the value changes; pass: a notification with the new value, no earlier
    # than pmin after the last one (Core 1.1 section 5.1.1).
    rig.tree.set((3, 0, 9), 87)
    rig.client.changed()
    note = await observation.next(timeout=5)
    assert note.value == 87 and time.monotonic() - started >= 0.9
    # Step 4: nothing changes; pass: a notification at most pmax after the last one.
    before = time.monotonic()
    note = await observation.next(timeout=5)
    assert note.value == 87 and time.monotonic() - before < 3.5
    assert note.observe is not None
    rig.server.cancel_observe(observation)


async def test_int_302_cancel_observation_by_reset(ets):
    rig = await ets()
    # Confirmable notifications (Default Notification Mode /1/0/26 = 1): aiocoap resets
    # a CON notification of an observation it cancelled; a NON one it drops silently,
    # which RFC 7641 section 3.6 allows, and the client notices at the next CON.
    assert (await rig.server.write(ENDPOINT, "/1/0/26", 1, format=CF_TLV)).ok
    assert (await rig.server.write_attributes(ENDPOINT, BATTERY, pmax=1)).ok
    observation = await rig.server.observe(ENDPOINT, BATTERY, format=CF_TLV)
    await observation.next(timeout=5)
    # Step 2: the server cancels; its CoAP stack answers the next notifications with
    # RST (RFC 7641 section 3.6); pass: the client stops notifying.
    rig.server.cancel_observe(observation)
    deadline = time.monotonic() + 8
    while rig.core.client.observations.items and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    assert not rig.core.client.observations.items


@contextlib.contextmanager
def reusing_token(server, token: bytes) -> Iterator[None]:
    """The next request the server sends carries ``token`` (an observation's)."""
    (manager,) = [ri for ri in server.context.request_interfaces
                  if isinstance(ri, TokenManager)]

    def once() -> bytes:
        del manager.next_token  # back to the class's own method
        return token

    manager.next_token = once
    try:
        yield
    finally:
        vars(manager).pop("next_token", None)


def held(rig, path) -> list:
    """The observations the client holds on ``path``."""
    target = as_path(path)
    return [o for o in rig.core.client.observations.items if o.path == target]


def outgoing(rig) -> list:
    """Every message the client core sends from now on, decoded, in order."""
    sent: list = []
    send = rig.core.datagrams_to_send

    def recording():
        out = send()
        sent.extend(decode(data) for data, _ in out)
        return out

    rig.core.datagrams_to_send = recording
    return sent


async def cancel_with_observe_1(rig, path):
    """GET ``path`` with Observe=1 on the token of the client's observation of it."""
    (obs,) = held(rig, path)
    with reusing_token(rig.server, obs.token):
        return await rig.request(aiocoap.GET, path, observe=1)


VOLTAGE = "/3/0/7"  # Power Source Voltage, multiple: {0: 3800, 1: 5000}
CURRENT = "/3/0/8"  # Power Source Current, multiple: {0: 125, 1: 900}


async def test_int_303_cancel_observations_using_observe_with_cancel_parameter(ets):
    # Precondition: C.3; the server observes /3/0/7 and /3/0/8.
    rig = await ets()
    voltage = await rig.server.observe(ENDPOINT, VOLTAGE)
    current = await rig.server.observe(ENDPOINT, CURRENT)
    assert voltage.active and current.active
    assert voltage.response.values == {(3, 0, 7, 0): 3800, (3, 0, 7, 1): 5000}
    # Step 1: /3/0/7/0 changes to 4000; pass: a notification of /3/0/7 with it.
    rig.tree.set((3, 0, 7, 0), 4000)
    rig.client.changed()
    note = await voltage.next(timeout=10)
    assert note.values == {(3, 0, 7, 0): 4000, (3, 0, 7, 1): 5000}
    # Step 2: GET /3/0/7 with Observe=1 on the observation's token. Pass: 2.05 with
    # the current value and no Observe option (RFC 7641 section 3.6: the answer to a
    # plain GET); the client holds no observation of /3/0/7 any more, the other one
    # stays.
    answer = await cancel_with_observe_1(rig, VOLTAGE)
    assert (answer.code, answer.observe) == ("2.05", None)
    assert answer.values == {(3, 0, 7, 0): 4000, (3, 0, 7, 1): 5000}
    assert held(rig, VOLTAGE) == [] and len(held(rig, CURRENT)) == 1
    # Step 3: /3/0/8/0 changes to 100 and /3/0/7/0 to 4100. Pass: /3/0/8 is notified;
    # nothing is held (or sent) for /3/0/7.
    rig.tree.set((3, 0, 8, 0), 100)
    rig.tree.set((3, 0, 7, 0), 4100)
    rig.client.changed()
    note = await current.next(timeout=10)
    assert note.values == {(3, 0, 8, 0): 100, (3, 0, 8, 1): 900}
    assert held(rig, VOLTAGE) == []
    # Step 4: the same for /3/0/8; pass: 2.05 without Observe, no observation left.
    answer = await cancel_with_observe_1(rig, CURRENT)
    assert (answer.code, answer.observe) == ("2.05", None)
    assert answer.values == {(3, 0, 8, 0): 100, (3, 0, 8, 1): 900}
    assert rig.core.client.observations.items == []
    for observation in (voltage, current):
        rig.server.cancel_observe(observation)


async def test_int_303_no_notification_after_the_cancel(ets):
    # After the Observe=1 GET the client sends nothing more on the old token: with
    # pmax attached, a live observation would notify within 2 s (and a change at
    # once after pmin 1 s); nothing goes out in 4.
    rig = await ets()
    assert (await rig.server.write_attributes(ENDPOINT, BATTERY, pmax=2)).ok
    observation = await rig.server.observe(ENDPOINT, BATTERY, format=CF_TLV)
    await observation.next(timeout=10)  # alive: pmax notifies
    (obs,) = held(rig, BATTERY)
    sent = outgoing(rig)
    answer = await cancel_with_observe_1(rig, BATTERY)
    assert (answer.code, answer.observe, answer.value) == ("2.05", None, 100)
    assert held(rig, BATTERY) == []
    rig.tree.set((3, 0, 9), 50)  # a change would be notified too
    rig.client.changed()
    await asyncio.sleep(4)
    # On the wire: the 2.05 answering the GET, and nothing else on that token.
    on_token = [msg for msg in sent if msg.token == obs.token]
    assert [(msg.code, msg.observe) for msg in on_token] == [(m.CONTENT, None)]
    rig.server.cancel_observe(observation)


async def test_int_303_observe_1_without_an_observation_is_a_read(ets):
    # A GET with Observe=1 whose token observes nothing: answered as a Read, 2.05
    # without Observe (RFC 7641 section 3.6 / 2), and no observation is set up.
    rig = await ets()
    answer = await rig.request(aiocoap.GET, BATTERY, observe=1, accept=CF_TLV)
    assert (answer.code, answer.observe, answer.value) == ("2.05", None, 100)
    assert rig.core.client.observations.items == []
