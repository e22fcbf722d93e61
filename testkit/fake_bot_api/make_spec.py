"""Regenerate ``bot_api.json``, the Bot API facts the fake server checks calls against.

Source: the scraped official Bot API reference of the public project
PaulSonOfLars/telegram-bot-api-spec (its ``api.json`` / ``api.min.json``, MIT licence),
itself taken from https://core.telegram.org/bots/api.  Only facts are kept — which
methods and types exist, each parameter's name, types and whether it is required, what a
method returns, and the length limits the reference states ("1-4096 characters") — never
the prose, so the file stays small and the repository needs nothing beside it.

    python testkit/fake_bot_api/make_spec.py path/to/api.json

A new Bot API version: download that project's ``api.json``, run this, commit the result.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

OUTPUT = Path(__file__).with_name("bot_api.json")
SOURCE = "https://github.com/PaulSonOfLars/telegram-bot-api-spec (api.json)"
LICENCE = "MIT (telegram-bot-api-spec); facts of the Telegram Bot API documentation"

# "Text of the message to be sent, 1-4096 characters after entities parsing"
_LIMIT = re.compile(r"\b(\d+)-(\d+) (characters|bytes)\b")


def compact_field(field: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"name": field["name"], "types": list(field.get("types", ()))}
    if field.get("required"):
        out["required"] = True
    found = _LIMIT.search(field.get("description", ""))
    if found:
        low, high, unit = found.groups()
        out["limit"] = [int(low), int(high), unit]
    return out


def compact(raw: dict[str, Any]) -> dict[str, Any]:
    def entries(table: dict[str, Any], *, with_returns: bool) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for name, item in sorted(table.items()):
            entry: dict[str, Any] = {
                "fields": [compact_field(f) for f in item.get("fields", ()) or ()]
            }
            if with_returns:
                entry["returns"] = list(item.get("returns", ()) or ())
            result[name] = entry
        return result

    return {
        "version": raw["version"],
        "release_date": raw.get("release_date", ""),
        "source": SOURCE,
        "licence": LICENCE,
        "methods": entries(raw["methods"], with_returns=True),
        "types": entries(raw["types"], with_returns=False),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="api.json of telegram-bot-api-spec")
    parser.add_argument("--out", type=Path, default=OUTPUT)
    args = parser.parse_args()
    data = compact(json.loads(args.source.read_text(encoding="utf-8")))
    # One entry a line: small diffs when the next Bot API version changes a few methods.
    lines = [json.dumps({k: v for k, v in data.items() if k not in ("methods", "types")})[:-1]]
    for table in ("methods", "types"):
        rows = [
            f"    {json.dumps(name)}: {json.dumps(entry, ensure_ascii=False)}"
            for name, entry in data[table].items()
        ]
        lines.append(f', "{table}": {{\n' + ",\n".join(rows) + "\n  }")
    args.out.write_text("".join(lines) + "}\n", encoding="utf-8")
    print(
        f"{args.out}: {data['version']}, {len(data['methods'])} methods, {len(data['types'])} types"
    )


if __name__ == "__main__":
    main()
