"""OMA ETS 1.1 observation cases (LightweightM2M-1.1-int-301, 302, 303) over loopback.

The rig's Server object is configuration C.3: Default Minimum Period 1 s and Default
Maximum Period 10 s (/1/0/2, /1/0/3), which the cases rely on. The device application
changes a value with ``tree.set`` and the adapter's next wake-up hands the change to the
core (``client.changed()`` stands for that wake-up here). The server cancels by Reset:
aiocoap cannot repeat the observation's token, which a GET with Observe=1 would need,
so int-303's Observe=1 form is checked on the core in tests/test_client_observe.py.
"""

from __future__ import annotations

import asyncio
import time

from ets_rig import ENDPOINT

from lwm2m_client.core.content import CF_TLV

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
