"""A pybabel extractor for form files: every catalog key a form uses becomes a message.

Registered as the ``patentbot_form`` extractor (pyproject entry point) for ``babel.cfg``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

import yaml

# Fields of a form file whose value is a catalog key.
KEY_FIELDS = frozenset(
    {"title", "text", "label", "section", "unit", "message", "plan", "situation"}
)
# Fields whose every scalar inside (a list's items, a mapping's values) is a catalog key.
KEY_CONTAINERS = frozenset({"guarantees", "points", "phrases"})

# A message: its key, or its singular and plural keys.
Message = str | tuple[str, str]


def _scalar(node: yaml.MappingNode, field: str) -> str | None:
    found = [v.value for k, v in node.value if k.value == field and isinstance(v, yaml.ScalarNode)]
    return found[0] if found else None


def _message(node: yaml.MappingNode, field: str, key: str) -> Message:
    # The unit of an integer is a count ("{count} organisations"): a plural message, the
    # way handlers/kernel/render.py shows it.
    if field == "unit" and _scalar(node, "type") == "integer":
        return key, f"{key}.plural"
    return key


def _keys(node: yaml.Node, where: str) -> Iterator[tuple[int, Message, str]]:
    if isinstance(node, yaml.ScalarNode):
        yield node.start_mark.line + 1, node.value, where
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _keys(item, where)
    elif isinstance(node, yaml.MappingNode):
        for _, value in node.value:
            yield from _keys(value, where)


def _walk(node: yaml.Node, owner: str) -> Iterator[tuple[int, Message, str]]:
    if isinstance(node, yaml.MappingNode):
        here = _scalar(node, "id") or _scalar(node, "clause") or owner
        for key, value in node.value:
            if key.value in KEY_CONTAINERS:
                yield from _keys(value, f"{key.value} of {here}")
            elif key.value in KEY_FIELDS and isinstance(value, yaml.ScalarNode):
                message = _message(node, key.value, value.value)
                yield value.start_mark.line + 1, message, f"{key.value} of {here}"
            else:
                yield from _walk(value, here)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _walk(item, owner)


def extract_form(
    fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: Any
) -> Iterator[tuple[int, str | None, Message, list[str]]]:
    """Plural messages come as the ``plural`` keyword's (``-k plural:1,2``)."""
    root = yaml.compose(fileobj.read().decode("utf-8"))
    if root is None:
        return
    for line, message, where in _walk(root, "form"):
        yield line, "plural" if isinstance(message, tuple) else None, message, [where]
