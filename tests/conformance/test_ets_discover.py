"""OMA ETS LwM2M 1.1: Discover (int-260) and Write-Attributes on a multiple resource
(int-261), section 6.3.

Configuration C.4: the Device object has the battery resources 6, 7 and 8 with two
instances each. The device here also carries the optional resources of the Core 1.2
section 7.4.5 example (10, 13, 14) and Reset Error Code (12).

Where the ETS listings predate resource-instance attributes (LwM2M 1.1) they omit the
resource-instance links; the client follows Core 1.1 section 6.3.2, whose own example
lists them under an instance and under a resource.
"""

from __future__ import annotations

import aiocoap
import pytest
from ets_rig import ENDPOINT

from lwm2m_client.core.content import CF_LINK

DEVICE_RESOURCES = ["/3/0/0", "/3/0/1", "/3/0/2", "/3/0/3", "/3/0/4", "/3/0/6", "/3/0/7",
                    "/3/0/8", "/3/0/9", "/3/0/10", "/3/0/11", "/3/0/12", "/3/0/13",
                    "/3/0/14", "/3/0/16"]
MULTIPLE = {"/3/0/6": 2, "/3/0/7": 2, "/3/0/8": 2, "/3/0/11": 1}


def instance_links(attrs=None):
    """The Discover /3/0 answer: resources, then each multiple resource's instances."""
    attrs = attrs or {}
    links = [("/3/0", {})]
    for target in DEVICE_RESOURCES:
        params = {"dim": str(MULTIPLE[target])} if target in MULTIPLE else {}
        params.update(attrs.get(target, {}))
        links.append((target, params))
        for riid in range(MULTIPLE.get(target, 0)):
            links.append((f"{target}/{riid}", {}))
    return links


async def test_int_260_discover_command(ets):
    # Precondition: C.4, registered, no attributes on /3.
    rig = await ets()
    # Step 1: Discover /3 (GET, Accept 40). Pass: 2.05 in link format listing the
    # object (with its version, 1.1 for a client registered as 1.1), the instance and
    # every resource present, multiple resources with dim.
    response = await rig.request(aiocoap.GET, "/3", accept=CF_LINK)
    assert (response.code, response.content_format) == ("2.05", CF_LINK)
    assert response.payload == (
        b"</3>;ver=1.1,</3/0>,</3/0/0>,</3/0/1>,</3/0/2>,</3/0/3>,</3/0/4>,</3/0/6>;dim=2,"
        b"</3/0/7>;dim=2,</3/0/8>;dim=2,</3/0/9>,</3/0/10>,</3/0/11>;dim=1,</3/0/12>,"
        b"</3/0/13>,</3/0/14>,</3/0/16>")
    # Step 2: Write-Attributes PUT /3?pmin=10&pmax=200; pass: 2.04.
    response = await rig.server.write_attributes(ENDPOINT, "/3", pmin=10, pmax=200)
    assert response.code == "2.04"
    # Step 3: Discover /3/0; pass: the same links without </3>. Attributes show where
    # they were attached: /3's do not appear on the instance.
    assert await rig.server.discover(ENDPOINT, "/3/0") == instance_links()
    # Step 4: Write-Attributes PUT /3/0/7?lt=1&gt=6&st=1; pass: 2.04.
    response = await rig.server.write_attributes(ENDPOINT, "/3/0/7", lt=1, gt=6, st=1)
    assert response.code == "2.04"
    # Step 5: Discover /3/0; pass: as step 3 with </3/0/7>;dim=2;lt=1;gt=6;st=1.
    expected = instance_links({"/3/0/7": {"gt": "6", "lt": "1", "st": "1"}})
    assert await rig.server.discover(ENDPOINT, "/3/0") == expected
    # Step 6: Discover /3/0/7; pass: the resource with its own attributes and those it
    # inherits from the object (pmin=10, pmax=200).
    links = await rig.server.discover(ENDPOINT, "/3/0/7")
    assert links[0] == ("/3/0/7", {"dim": "2", "pmin": "10", "pmax": "200", "gt": "6",
                                   "lt": "1", "st": "1"})
    assert links[1:] == [("/3/0/7/0", {}), ("/3/0/7/1", {})]


async def test_int_261_write_attributes_on_multiple_resource(ets):
    # Precondition: C.1, registered as 1.1, no attributes set.
    rig = await ets()
    # Step 1: Discover /3/0/11; pass: </3/0/11>;dim=1,</3/0/11/0>.
    response = await rig.request(aiocoap.GET, "/3/0/11", accept=CF_LINK)
    assert response.payload == b"</3/0/11>;dim=1,</3/0/11/0>"
    # Steps 2-4: Write-Attributes /3?pmin=10&pmax=200, /3/0?pmax=320 and
    # /3/0/11/0?pmax=100&epmin=1&epmax=20; pass: 2.04 each.
    for path, attrs in (("/3", {"pmin": 10, "pmax": 200}), ("/3/0", {"pmax": 320}),
                        ("/3/0/11/0", {"pmax": 100, "epmin": 1, "epmax": 20})):
        assert (await rig.server.write_attributes(ENDPOINT, path, **attrs)).code == "2.04"
    # Step 5: Discover /3/0/11. Pass: the resource shows pmin from /3 and pmax from
    # /3/0 (the nearer level wins), its instance its own attributes.
    response = await rig.request(aiocoap.GET, "/3/0/11", accept=CF_LINK)
    assert response.payload == (b"</3/0/11>;dim=1;pmin=10;pmax=320,"
                                b"</3/0/11/0>;pmax=100;epmin=1;epmax=20")


INVALID_ATTRIBUTES = [
    ("/3/0/7", ("lt=6", "gt=1")),  # lt must be below gt (C1.1 5.1.2)
    ("/3/0/7", ("lt=1", "gt=6", "st=3")),  # lt + 2*st must be below gt
    ("/3/0/7", ("lt=6",)),  # lt above the gt=5 attached below: the merged result counts
    ("/3/0/11/0", ("epmin=20", "epmax=1")),  # epmin must be below epmax
    ("/3/0/11", ("st=-1",)),  # st is not negative
    ("/3/0", ("gt=5",)),  # gt, lt and st belong to resources
    ("/3/0/0", ("gt=5",)),  # ... to numeric ones
    ("/3/0/11", ("dim=3",)),  # dim is a read-only property
    ("/3/0/11", ("pmin=ten",)),
    ("/3/0/11", ("pmin=1", "pmin=2")),
    ("/3/0/11", ("priority=1",)),
    ("/3/0/11", ()),  # a PUT with neither payload nor query
]


@pytest.mark.parametrize("path, query", INVALID_ATTRIBUTES)
async def test_int_261_invalid_attributes_are_refused(ets, path, query):
    # Invalid values or combinations in one Write-Attributes are answered 4.00 Bad
    # Request (T1.1 section 6.4.4) and change nothing.
    rig = await ets()
    assert (await rig.server.write_attributes(ENDPOINT, "/3/0/7", gt=5)).code == "2.04"
    before = [await rig.server.discover(ENDPOINT, p) for p in ("/3/0", "/3/0/11")]
    response = await rig.request(aiocoap.PUT, path, query=query)
    assert response.code == "4.00"
    after = [await rig.server.discover(ENDPOINT, p) for p in ("/3/0", "/3/0/11")]
    assert after == before


async def test_int_261_unset_and_missing_targets(ets):
    # A name without a value removes that attribute at that level (C1.1 section
    # 6.3.4); a Write-Attributes on a path that does not exist is 4.04.
    rig = await ets()
    await rig.server.write_attributes(ENDPOINT, "/3/0/11", pmin=5, pmax=50)
    assert (await rig.server.write_attributes(ENDPOINT, "/3/0/11", unset=["pmin"])).code \
        == "2.04"
    response = await rig.request(aiocoap.GET, "/3/0/11", accept=CF_LINK)
    assert response.payload == b"</3/0/11>;dim=1;pmax=50,</3/0/11/0>"
    assert (await rig.server.write_attributes(ENDPOINT, "/3/0/99", pmin=1)).code == "4.04"
    assert (await rig.server.write_attributes(ENDPOINT, "/3/1", pmin=1)).code == "4.04"
    assert (await rig.server.write_attributes(ENDPOINT, "/3/0/11/7", pmin=1)).code == "4.04"
