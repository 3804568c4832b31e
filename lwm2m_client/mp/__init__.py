"""The MicroPython adapter: one LwM2M client on a UDP socket of a MicroPython device.

- :mod:`lwm2m_client.mp.clock`: a monotonic millisecond clock on ``time.ticks_ms`` that
  survives the ticks counter's wrap-around, and the random source for tokens and message
  IDs (``os.urandom``);
- :mod:`lwm2m_client.mp.udp`: :class:`~lwm2m_client.mp.udp.MpClient`, the client loop on a
  non-blocking socket with ``select.poll`` (no asyncio needed);
- :mod:`lwm2m_client.mp.aio`: the same for applications that already run ``asyncio``.

Like the core this package imports nothing at package level, so a meter loads only what it
uses.
"""
