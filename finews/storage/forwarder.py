"""A local TCP port that forwards to the embedded server: how ``finews serve`` answers on its own port.

The embedded server listens on the one port its keeper started it on, which a crawl may have
picked before ``finews serve`` came (FINEWS_EMBEDDED_PORT 0: any free one). A server cannot move
ports while runs use it, so serve relays bytes from its port to that one; readers connect with
``directConnection=true`` (docs/schema.md) and see one server either way.
"""

from __future__ import annotations

import asyncio
import logging

logger = logging.getLogger(__name__)

_CHUNK = 1 << 16


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(_CHUNK):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


async def forward(port: int, target_port: int, host: str = "127.0.0.1") -> asyncio.Server:
    """Listen on ``host:port`` and relay every connection to ``host:target_port`` (OSError if the port is taken)."""

    async def relay(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            server_reader, server_writer = await asyncio.open_connection(host, target_port)
        except OSError as exc:
            logger.warning("The embedded server at port %d refused a reader: %s", target_port, exc)
            client_writer.close()
            return
        await asyncio.gather(_pipe(client_reader, server_writer), _pipe(server_reader, client_writer))

    return await asyncio.start_server(relay, host, port)
