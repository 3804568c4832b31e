"""OMA ETS LwM2M 1.1, Registration interface (section 6.2): int-101 to int-107.

Lifetimes are shrunk so that periodic Updates come within seconds: the client sends an
Update ``lifetime - min(lifetime / 2, 93 s)`` after the last one, so lt=4 means 2 s.
"""

from __future__ import annotations

from ets_rig import ENDPOINT, SSID

from lwm2m_client.core.client import events as ev
from lwm2m_client.core.client import registration as reg_fsm
from lwm2m_client.core.coap import message as m
from lwm2m_client.core.content import CF_LINK
from lwm2m_client.server import EXPIRED


async def test_int_101_initial_registration(ets):
    # Preconditions: configuration C.1 (here C.4, a superset), device on, accounts
    # provisioned. Step 1: the client sends POST /rd with ep, lt, lwm2m, b and the
    # object list in link format.
    rig = await ets()
    [register] = rig.server.registers()
    # Pass A: the server received the endpoint name, the lifetime, lwm2m=1.1 and the
    # binding, in that order, and nothing it would have to reject.
    assert register.query == ("ep=" + ENDPOINT, "lt=86400", "lwm2m=1.1", "b=U")
    # Pass A: the object list is CoRE link format listing every instance, with ver
    # where an object is not 1.0 (the versions published with LwM2M 1.1, the version
    # registered), and never the Security object /0.
    assert register.content_format == CF_LINK
    assert register.payload == b"</1>;ver=1.1,</1/0>,</3>;ver=1.1,</3/0>,</19/0>"
    reg = rig.server.registration(ENDPOINT)
    assert reg.objects == {1: [0], 3: [0], 19: [0]}
    assert reg.lwm2m_version == "1.1" and reg.lifetime == 86400 and reg.binding == "U"
    # Pass B: the client got 2.01 Created with a Location-Path under /rd, which it
    # keeps for Update and De-register.
    assert rig.client_events(ev.Registered) == [ev.Registered(SSID, ["rd", reg.location])]
    assert rig.core.registration(SSID).state == reg_fsm.ST_REGISTERED


async def test_int_102_registration_update(ets):
    # Precondition: registered (C.1). The ETS sets the lifetime to 20 s; 4 s keeps the
    # case short with the same steps.
    rig = await ets()
    location = rig.server.registration(ENDPOINT).location
    # Step 1: the server writes Lifetime /1/0/1; pass: 2.04.
    response = await rig.server.write(ENDPOINT, "/1/0/1", 4)
    assert response.code == "2.04"
    # Step 2: the client sends Update POST /rd/{location}?lt=4 at once; pass: the
    # server has the new lifetime and answered 2.04 (it published "updated").
    update = await rig.update_with(("lt=4",))
    assert update.path == ("rd", location) and update.payload == b""
    assert rig.server.registration(ENDPOINT).lifetime == 4
    # Step 3: before the lifetime runs out the client refreshes the registration with
    # an Update carrying no parameter at all (nothing changed).
    refresh = await rig.next_update()
    assert refresh.path == ("rd", location)
    assert refresh.query == () and refresh.payload == b""
    assert EXPIRED not in rig.server_kinds()
    assert rig.client_events(ev.RegistrationUpdated) == [ev.RegistrationUpdated(SSID)] * 2


async def test_int_103_deregistration(ets):
    # Precondition: registered with configuration C.3 (Disable /1/0/4 supported).
    rig = await ets()
    location = rig.server.registration(ENDPOINT).location
    # Step 1: the server executes Disable /1/0/4; pass: 2.04.
    response = await rig.server.execute(ENDPOINT, "/1/0/4")
    assert response.code == "2.04"
    # Step 2: the client sends De-register DELETE /rd/{location}; pass: the server
    # answered 2.02 and removed the client from its registration database.
    await rig.server.wait_deregistered(ENDPOINT)
    [deregister] = rig.server.deregisters()
    assert deregister.path == ("rd", location) and deregister.payload == b""
    assert rig.server.registration(ENDPOINT) is None
    # The client now stays away for the Disable Timeout /1/0/5 (86400 s).
    assert rig.client_events(ev.Deregistered) == [ev.Deregistered(SSID, True)]
    assert rig.core.registration(SSID).state == reg_fsm.ST_DISABLED


async def test_int_104_registration_update_trigger(ets):
    # Precondition: registered. With lt=86400 the next periodic Update is a day away,
    # so any Update seen here is the triggered one.
    rig = await ets()
    reg = rig.server.registration(ENDPOINT)
    registered_at = reg.updated_at
    # Step 1: the server executes Registration Update Trigger /1/0/8; pass: 2.04.
    response = await rig.server.execute(ENDPOINT, "/1/0/8")
    assert response.code == "2.04"
    # Step 2: the client sends Update POST /rd/{location} without parameters (nothing
    # changed) and gets 2.04.
    update = await rig.next_update()
    assert update.path == ("rd", reg.location)
    assert update.query == () and update.payload == b""
    # Pass: the registration was refreshed, so it outlives the initial lifetime.
    assert rig.server.registration(ENDPOINT) is reg
    assert reg.updated_at > registered_at
    assert rig.client_events(ev.RegistrationUpdated) == [ev.RegistrationUpdated(SSID)]


async def test_int_105_discarded_register_update(ets):
    # Precondition: registered. The server's clock runs 20 times fast here
    # (time_scale), so a 4 s lifetime ends on the server after 0.2 s while the client
    # still counts 4 s: the server forgets the client and the client does not know.
    rig = await ets(time_scale=0.05, expiry_grace=0.0)
    first = rig.server.registration(ENDPOINT)
    # Step 1: the server writes a low lifetime; the client sends an Update with it.
    assert (await rig.server.write(ENDPOINT, "/1/0/1", 4)).code == "2.04"
    await rig.update_with(("lt=4",))
    # Step 2: the server considers the device de-registered.
    await rig.server.wait_expired(ENDPOINT)
    assert rig.server.registration(ENDPOINT) is None
    # Step 3: the client's next Update goes to the old location; the server answers
    # 4.04 Not Found.
    # Pass: the client registers again with POST /rd (int-101) carrying every
    # parameter and the object list.
    second = await rig.server.wait_registered(ENDPOINT)
    assert [(u.path, u.query) for u in rig.server.updates()] == [
        (("rd", first.location), ("lt=4",)), (("rd", first.location), ())]
    assert rig.core.registration(SSID).last_code == m.NOT_FOUND
    register = rig.server.registers()[-1]
    assert register.query == ("ep=" + ENDPOINT, "lt=4", "lwm2m=1.1", "b=U")
    assert register.payload == rig.server.registers()[0].payload
    assert second.location != first.location
    assert [e.location for e in rig.client_events(ev.Registered)] == [
        ["rd", first.location], ["rd", second.location]]


async def test_int_107_extending_the_lifetime(ets):
    # Step 1: the client registers with b=U and a short lifetime (the ETS uses 60 s).
    # A registration not refreshed within its lifetime + 0.5 s expires on this server.
    rig = await ets(lifetime=2, expiry_grace=0.5)
    assert rig.server.registers()[0].query[1] == "lt=2"
    # Step 2: the server writes a longer lifetime /1/0/1; pass 2a: 2.04.
    assert (await rig.server.write(ENDPOINT, "/1/0/1", 4)).code == "2.04"
    # Pass 2b/2c: the client sends POST /rd/{location}?lt=4 at once and the server
    # accepts it (2.04).
    await rig.update_with(("lt=4",))
    assert rig.server.registration(ENDPOINT).lifetime == 4
    # Step 3 / pass: the next Update arrives within the new lifetime, so the server
    # never expired the registration.
    refresh = await rig.next_update()
    assert refresh.query == ()
    assert EXPIRED not in rig.server_kinds()
    assert rig.server.registration(ENDPOINT).lifetime == 4
