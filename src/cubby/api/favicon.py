"""``/favicon.ico`` and ``/favicon.svg``: the icon of /docs and the dashboard (browsers ask for
``/favicon.ico`` on their own; a 404 there filled every log). No API key: it is an icon.

The ICO is made here from the same two colours as the SVG (a 16x16 32-bit bitmap: a rounded
box with a lid line), so the repository holds no binary file.
"""

from __future__ import annotations

import struct

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

_BOX = (0x2F, 0x5D, 0x8C)  # RGB
_LID = (0xF2, 0xC1, 0x4E)
SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16">'
    '<rect x="1" y="2" width="14" height="13" rx="2" fill="#2f5d8c"/>'
    '<rect x="1" y="5" width="14" height="2" fill="#f2c14e"/></svg>'
)
_HEADERS = {"cache-control": "public, max-age=86400", "x-content-type-options": "nosniff"}


def _ico() -> bytes:
    size = 16
    rows = []
    for y in range(size):  # bottom-up, as BMP stores rows
        top = size - 1 - y
        row = b""
        for x in range(size):
            corner = x in (0, 15) and top in (2, 15)  # the rounded corners
            if top < 2 or corner:
                row += b"\0\0\0\0"  # transparent
            else:
                r, g, b = _LID if top in (5, 6) else _BOX
                row += bytes((b, g, r, 255))
        rows.append(row)
    pixels = b"".join(rows)
    mask = b"\0" * (4 * size)  # the alpha channel decides; an all-zero AND mask
    header = struct.pack("<IiiHHIIiiII", 40, size, size * 2, 1, 32, 0, 0, 0, 0, 0, 0)
    image = header + pixels + mask
    directory = struct.pack("<BBBBHHII", size, size, 0, 0, 1, 32, len(image), 6 + 16)
    return struct.pack("<HHH", 0, 1, 1) + directory + image


ICO = _ico()


async def favicon_ico(request: Request) -> Response:
    """The site icon as ICO (browsers ask for it by themselves)."""
    return Response(ICO, media_type="image/x-icon", headers=_HEADERS)


async def favicon_svg(request: Request) -> Response:
    """The site icon as SVG (what /docs and the dashboard's pages link to)."""
    return Response(SVG, media_type="image/svg+xml", headers=_HEADERS)


ROUTES = [
    Route("/favicon.ico", favicon_ico, methods=["GET"]),
    Route("/favicon.svg", favicon_svg, methods=["GET"]),
]
