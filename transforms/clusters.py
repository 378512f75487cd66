"""Connected components over pairs of keys (union-find), shared by dedupe and template learning."""
from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import TypeVar

Key = TypeVar("Key", bound=Hashable)


def connected_components(pairs: Iterable[tuple[Key, Key]]) -> dict[Key, Key]:
    """Every key named in a pair -> the smallest key of its component (a deterministic cluster id)."""
    parent: dict[Key, Key] = {}

    def find(key: Key) -> Key:
        while parent[key] != key:
            parent[key] = parent[parent[key]]  # path halving keeps the trees flat
            key = parent[key]
        return key

    for a, b in pairs:
        parent.setdefault(a, a)
        parent.setdefault(b, b)
        root_a, root_b = find(a), find(b)
        if root_a != root_b:
            parent[max(root_a, root_b)] = min(root_a, root_b)
    return {key: find(key) for key in parent}
