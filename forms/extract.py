"""A pybabel extractor for form files: every catalog key a form uses becomes a message.

Registered as the ``patentbot_form`` extractor (pyproject entry point) for ``babel.cfg``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

import yaml

# Fields of a form file whose value is a catalog key.
KEY_FIELDS = frozenset({"title", "text", "label", "section", "unit", "message"})


def _walk(node: yaml.Node, owner: str) -> Iterator[tuple[int, str, str]]:
    if isinstance(node, yaml.MappingNode):
        ids = [v.value for k, v in node.value if k.value == "id" and isinstance(v, yaml.ScalarNode)]
        here = ids[0] if ids else owner
        for key, value in node.value:
            if key.value in KEY_FIELDS and isinstance(value, yaml.ScalarNode):
                yield value.start_mark.line + 1, value.value, f"{key.value} of {here}"
            else:
                yield from _walk(value, here)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _walk(item, owner)


def extract_form(
    fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: Any
) -> Iterator[tuple[int, None, str, list[str]]]:
    root = yaml.compose(fileobj.read().decode("utf-8"))
    if root is None:
        return
    for line, key, where in _walk(root, "form"):
        yield line, None, key, [where]
