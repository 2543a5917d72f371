"""A small picture of the knowledge graph around one entity, laid out for an inline SVG.

The entity sits in the middle, its neighbours (ends of its relations, in or out) on a circle
around it, one line per relation with its type. Only coordinates and strings are computed here;
the template draws them, so every name stays autoescaped text (no markup is built by hand).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

WIDTH = 640
HEIGHT = 420
RADIUS = 160
NODE_R = 26
MAX_NEIGHBOURS = 16
LABEL_CHARS = 18


def short(text: str, limit: int = LABEL_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class Node:
    name: str
    label: str
    x: float
    y: float
    center: bool = False


@dataclass(frozen=True)
class Edge:
    """A line from ``x1,y1`` to ``x2,y2`` (stopped at the nodes' rims), its label's position."""

    source: str
    to: str
    type: str
    label: str
    x1: float
    y1: float
    x2: float
    y2: float
    lx: float
    ly: float


@dataclass
class Picture:
    width: int = WIDTH
    height: int = HEIGHT
    node_r: int = NODE_R
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    hidden: int = 0  # neighbours left out (more than MAX_NEIGHBOURS)


def _rim(x1: float, y1: float, x2: float, y2: float) -> tuple[float, float, float, float]:
    """The segment between two node centres, shortened by a node radius at each end."""
    dx, dy = x2 - x1, y2 - y1
    length = math.hypot(dx, dy) or 1.0
    ux, uy = dx / length, dy / length
    gap = NODE_R + 2
    return x1 + ux * gap, y1 + uy * gap, x2 - ux * (gap + 4), y2 - uy * (gap + 4)


def layout(center: str, relations: list[dict[str, Any]]) -> Picture:
    """The picture of ``center`` and its relations (``{from, to, type}`` dicts)."""
    picture = Picture()
    cx, cy = WIDTH / 2, HEIGHT / 2
    neighbours: list[str] = []
    for rel in relations:
        other = rel["to"] if rel["from"] == center else rel["from"]
        if other != center and other not in neighbours:
            neighbours.append(other)
    shown = neighbours[:MAX_NEIGHBOURS]
    picture.hidden = len(neighbours) - len(shown)
    where = {center: (cx, cy)}
    picture.nodes.append(Node(center, short(center), cx, cy, center=True))
    for i, name in enumerate(shown):
        angle = -math.pi / 2 + 2 * math.pi * i / max(1, len(shown))
        x, y = cx + RADIUS * 1.4 * math.cos(angle), cy + RADIUS * math.sin(angle)
        where[name] = (x, y)
        picture.nodes.append(Node(name, short(name), round(x, 1), round(y, 1)))
    for rel in relations:
        a, b = where.get(rel["from"]), where.get(rel["to"])
        if a is None or b is None:
            continue
        if a == b:  # a relation of the entity to itself: a short stub above it
            x1, y1, x2, y2 = cx, cy - NODE_R, cx, cy - NODE_R - 1
        else:
            x1, y1, x2, y2 = _rim(*a, *b)
        picture.edges.append(
            Edge(
                rel["from"],
                rel["to"],
                rel["type"],
                short(rel["type"], 22),
                round(x1, 1),
                round(y1, 1),
                round(x2, 1),
                round(y2, 1),
                round((x1 + x2) / 2, 1),
                round((y1 + y2) / 2 - 4, 1),
            )
        )
    return picture
