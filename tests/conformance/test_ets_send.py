"""OMA ETS LwM2M 1.1, the Send operation (LightweightM2M-1.1-int-306, 307, 311) over
loopback against the embedded server.

Send (Core 1.1 section 6.4.6, Transport 1.1 section 6.4.5) is the one Information
Reporting operation the client starts: a confirmable ``POST /dp`` carrying SenML, which
the server answers 2.04. The device application asks for it (``core.send``); the
adapter's next wake-up (``client.changed()`` stands for it here) puts it on the wire.

The ETS text of these three cases was not at hand; their steps below follow the case
titles and a public implementation of the ETS procedure (the Zephyr interoperability
suite: Send of /1 and /3, Mute Send true then false, Send of /1/0/1 and /3/0/11), and
the pass criteria are those of Core 1.1 section 6.4.6 and Object 1 resource 23.

Mute Send: by Object 1's definition of resource 23, Send is off both when the resource
is true and when it is absent. ``setup.add_server`` writes it false; every case still
writes ``/1/0/23 = false`` first -- the configuration in which the ETS expects Send to
work -- and one takes the resource away.
"""

from __future__ import annotations

import asyncio
import time

import aiocoap
import pytest
from ets_rig import DEVICE_VALUES, ENDPOINT, SERVER_VALUES

from lwm2m_client.core.client import events as ev
from lwm2m_client.core.coap import message as m
from lwm2m_client.core.content import CF_SENML_CBOR, CF_TLV
from lwm2m_client.core.errors import UsageError
from lwm2m_client.models import shipped_objects

MUTE_SEND = "/1/0/23"
OBJECTS = shipped_objects()


async def until(condition, timeout: float = 10.0, what: str = "condition") -> None:
    """Poll ``condition()`` until it holds (generous: a loaded two-core machine)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def unmute(rig) -> None:
    """Precondition of every case: Mute Send present and false (see the docstring)."""
    assert (await rig.server.write(ENDPOINT, MUTE_SEND, False, format=CF_TLV)).code == "2.04"
    assert rig.tree.get((1, 0, 23)) is False


def send(rig, *paths) -> list:
    """The application's Send of ``paths`` now; returns the SSIDs it went to."""
    sent = rig.core.send(list(paths), rig.client.now_ms())
    rig.client.changed()
    return sent


def sends_received(rig) -> list:
    return [r for r in rig.server.received if r.method == "POST" and r.path == ("dp",)]


def sent_events(rig) -> list:
    return rig.client_events(ev.Sent)


def values_of(records) -> dict:
    return {path: value for path, value, _ in records}


def mandatory_readable(oid: int) -> set:
    odef = OBJECTS[oid]
    return {rid for rid, rdef in odef.resources.items() if rdef.mandatory and rdef.readable}


# -- int-306 Send Operation ------------------------------------------------------------


async def test_int_306_send_of_whole_objects(ets):
    # Precondition: C.3, registered as LwM2M 1.1; Mute Send false.
    rig = await ets()
    await unmute(rig)
    # Step 1: the client Sends /1 and /3. Pass: one POST /dp in SenML CBOR (the 1.1
    # default, Core 1.1 section 6.4.6) that the server accepts with 2.04 ...
    assert send(rig, (1,), (3,)) == [1]
    records = await rig.server.wait_send(ENDPOINT, timeout=10)
    (request,) = sends_received(rig)
    assert request.content_format == CF_SENML_CBOR and request.query == ()
    # ... carrying the current value of every readable resource of /1/0 and /3/0 --
    # the mandatory ones among them -- with absolute paths, each once ...
    got = values_of(records)
    assert got == {**SERVER_VALUES, **DEVICE_VALUES}
    assert len(records) == len(got)
    for oid in (1, 3):
        assert mandatory_readable(oid) <= {path[2] for path in got if path[0] == oid}
    # ... and the server's answer reaches the application as a Sent event.
    await until(lambda: sent_events(rig), what="the Sent event")
    assert sent_events(rig) == [ev.Sent(1, m.CHANGED)] and sent_events(rig)[0].ok


@pytest.mark.parametrize("paths, expected", [
    ([(3, 0, 9)], {(3, 0, 9): 100}),  # a single resource
    ([(3, 0, 6, 1)], {(3, 0, 6, 1): 5}),  # a single resource instance
    ([(3, 0, 9), (1, 0, 1), (3, 0, 7)],  # several, from two objects
     {(3, 0, 9): 100, (1, 0, 1): 86400, (3, 0, 7, 0): 3800, (3, 0, 7, 1): 5000}),
])
async def test_int_306_send_of_resources(ets, paths, expected):
    rig = await ets()
    await unmute(rig)
    assert send(rig, *paths) == [1]
    records = await rig.server.wait_send(ENDPOINT, timeout=10)
    assert values_of(records) == expected and len(records) == len(expected)
    await until(lambda: sent_events(rig), what="the Sent event")
    assert sent_events(rig) == [ev.Sent(1, m.CHANGED)]


async def test_int_306_send_carries_the_value_current_at_the_send(ets):
    # The application changes a value and Sends it: the server gets the new value,
    # without a Read (Core 1.1 section 6.4.6).
    rig = await ets()
    await unmute(rig)
    rig.tree.set((3, 0, 9), 42)
    send(rig, (3, 0, 9))
    assert values_of(await rig.server.wait_send(ENDPOINT, timeout=10)) == {(3, 0, 9): 42}


async def test_int_306_the_security_object_is_never_sent(ets):
    # The Security object is not visible to an LwM2M Server (Core 1.1 section 6.3,
    # 6.4.6: Send reports what the server may Read): asking for it is the
    # application's mistake, refused before anything goes out.
    rig = await ets()
    await unmute(rig)
    for path in ((0,), (0, 0), (0, 0, 0)):
        with pytest.raises(UsageError):
            rig.core.send([path, (3, 0, 9)], rig.client.now_ms())
    rig.client.changed()
    await asyncio.sleep(0.3)
    assert sends_received(rig) == [] and sent_events(rig) == []


# -- int-307 Muting Send ---------------------------------------------------------------


async def test_int_307_muting_send(ets):
    rig = await ets()
    await unmute(rig)
    # Step 1: the server writes Mute Send /1/0/23 = true; pass: 2.04.
    assert (await rig.server.write(ENDPOINT, MUTE_SEND, True, format=CF_TLV)).code == "2.04"
    # Step 2: the application asks for a Send of /3/0; pass: the client sends nothing
    # to that server (Object 1 resource 23).
    assert send(rig, (3, 0)) == []
    # Step 3: the server writes Mute Send = false; pass: 2.04.
    assert (await rig.server.write(ENDPOINT, MUTE_SEND, False, format=CF_TLV)).code == "2.04"
    # Step 4: the application Sends /3/0 again; pass: POST /dp reaches the server with
    # /3/0, answered 2.04 -- and it is the only Send the server ever got.
    assert send(rig, (3, 0)) == [1]
    records = await rig.server.wait_send(ENDPOINT, timeout=10)
    assert values_of(records) == DEVICE_VALUES
    await until(lambda: sent_events(rig), what="the Sent event")
    assert len(sends_received(rig)) == 1
    assert sent_events(rig) == [ev.Sent(1, m.CHANGED)]


async def test_int_307_an_absent_mute_send_resource_deactivates_send(ets):
    # Object 1 resource 23 taken away: the client must not Send.
    rig = await ets()
    rig.tree.set((1, 0, 23), None)
    assert not rig.tree.has((1, 0, 23))
    assert send(rig, (3, 0, 9)) == []
    await asyncio.sleep(0.3)
    assert sends_received(rig) == []


# -- int-311 Send command --------------------------------------------------------------


async def test_int_311_send_command(ets):
    rig = await ets()
    await unmute(rig)
    # Step 1: the application (the device's "send" command) Sends /1/0/1 and /3/0/11.
    # Pass: the server receives exactly {/1/0/1: 86400, /3/0/11/0: 0} ...
    assert send(rig, (1, 0, 1), (3, 0, 11)) == [1]
    records = await rig.server.wait_send(ENDPOINT, timeout=10)
    assert values_of(records) == {(1, 0, 1): 86400, (3, 0, 11, 0): 0}
    assert len(records) == 2
    # ... and the server's 2.04 is reported to the application as a Sent event.
    await until(lambda: sent_events(rig), what="the Sent event")
    (sent,) = sent_events(rig)
    assert (sent.ssid, sent.code, sent.ok) == (1, m.CHANGED, True)


async def test_int_311_each_send_gets_its_own_answer(ets):
    # Two Sends in a row: the confirmable requests go one after the other (NSTART 1,
    # RFC 7252 section 4.7), each is answered and reported, in order.
    rig = await ets()
    await unmute(rig)
    send(rig, (3, 0, 9))
    rig.tree.set((3, 0, 9), 99)
    send(rig, (3, 0, 9))
    first = await rig.server.wait_send(ENDPOINT, timeout=10)
    second = await rig.server.wait_send(ENDPOINT, timeout=10)
    assert values_of(first) == {(3, 0, 9): 100} and values_of(second) == {(3, 0, 9): 99}
    await until(lambda: len(sent_events(rig)) == 2, what="two Sent events")
    assert sent_events(rig) == [ev.Sent(1, m.CHANGED)] * 2


async def test_int_311_an_error_answer_is_reported_too(ets):
    # The server's answer is the application's to judge: an error (4.04, which
    # Transport 1.1 section 6.4.5 lists for a Send of an object the server does not
    # know) comes back as a Sent event that is not ok; the client does not retry.
    rig = await ets()
    await unmute(rig)
    rig.server._send = lambda request: aiocoap.Message(code=aiocoap.NOT_FOUND)
    send(rig, (3, 0, 9))
    await until(lambda: sent_events(rig), what="the Sent event")
    (sent,) = sent_events(rig)
    assert (sent.code, sent.ok) == (m.NOT_FOUND, False)
    await asyncio.sleep(0.3)
    assert len(sends_received(rig)) == 1
