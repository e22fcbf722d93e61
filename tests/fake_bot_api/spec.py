"""The Bot API as data: which methods exist, what they take, and how a call is refused.

The fake server must reject exactly what api.telegram.org rejects, so instead of a
hand-kept list it reads the scraped official reference
(``shared/reference/telegram-bot-api-<version>.json`` beside the repository, or the
file named by ``FAKE_BOT_API_SPEC``).  This module also turns the loosely typed
parameters of an HTTP request (every form value is a string) into Python values the
way the real server interprets them.
"""

from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SPEC_ENV_VAR = "FAKE_BOT_API_SPEC"
SPEC_FILE_NAME = "telegram-bot-api-10.1.json"

# Parameters that the real server reports with a dedicated message instead of the
# generic 'parameter "x" is required'; bots (and their tests) match on these strings.
_MISSING_MESSAGES: dict[str, str] = {
    "chat_id": "Bad Request: chat_id is empty",
    "text": "Bad Request: message text is empty",
    "message_id": "Bad Request: message identifier is not specified",
    "user_id": "Bad Request: invalid user_id specified",
}

# Media parameters are "InputFile or String"; a missing one is reported as absent
# from the request rather than as an absent parameter.
_MEDIA_PARAMETERS = frozenset(
    {
        "animation",
        "audio",
        "document",
        "photo",
        "sticker",
        "video",
        "video_note",
        "voice",
    }
)

# JSON-encoded parameters whose parse failure has its own wording in the real server.
_JSON_ERROR_MESSAGES: dict[str, str] = {
    "reply_markup": "Bad Request: can't parse reply keyboard markup JSON object",
    "entities": "Bad Request: can't parse entities JSON object",
    "caption_entities": "Bad Request: can't parse entities JSON object",
}

_PRIMITIVE_TYPES = frozenset({"Integer", "String", "Boolean", "Float", "InputFile"})


class ApiError(Exception):
    """A refusal, rendered as ``{"ok": false, "error_code": ..., "description": ...}``."""

    def __init__(
        self,
        error_code: int,
        description: str,
        *,
        retry_after: int | None = None,
        migrate_to_chat_id: int | None = None,
    ) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.retry_after = retry_after
        self.migrate_to_chat_id = migrate_to_chat_id

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        parameters: dict[str, int] = {}
        if self.retry_after is not None:
            parameters["retry_after"] = self.retry_after
        if self.migrate_to_chat_id is not None:
            parameters["migrate_to_chat_id"] = self.migrate_to_chat_id
        if parameters:
            body["parameters"] = parameters
        return body

    def __repr__(self) -> str:
        return f"ApiError({self.error_code}, {self.description!r})"


def bad_request(detail: str) -> ApiError:
    """400 with the ``Bad Request: `` prefix every 400 of the real API carries."""
    return ApiError(400, f"Bad Request: {detail}")


@dataclass(frozen=True)
class UploadedFile:
    """One file part of a multipart request, kept byte for byte."""

    field: str
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class FieldSpec:
    name: str
    types: tuple[str, ...]
    required: bool

    @property
    def accepts_file(self) -> bool:
        return "InputFile" in self.types

    @property
    def is_json(self) -> bool:
        """Objects and arrays travel JSON-encoded inside form bodies."""
        return any(t not in _PRIMITIVE_TYPES for t in self.types)


@dataclass(frozen=True)
class MethodSpec:
    name: str
    fields: tuple[FieldSpec, ...]
    returns: tuple[str, ...]

    def field(self, name: str) -> FieldSpec | None:
        for spec in self.fields:
            if spec.name == name:
                return spec
        return None


class BotApiSpec:
    """The method table of one Bot API version, looked up case-insensitively."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.version: str = str(raw.get("version", "unknown"))
        self.types: dict[str, Any] = dict(raw.get("types", {}))
        self.methods: dict[str, MethodSpec] = {}
        for name, method in raw.get("methods", {}).items():
            fields = tuple(
                FieldSpec(
                    name=str(f["name"]),
                    types=tuple(str(t) for t in f.get("types", ())),
                    required=bool(f.get("required", False)),
                )
                for f in method.get("fields", ()) or ()
            )
            returns = tuple(str(t) for t in method.get("returns", ()) or ())
            self.methods[name] = MethodSpec(name=name, fields=fields, returns=returns)
        # The real API matches method names case-insensitively ("sendmessage" works).
        self._by_lower = {name.lower(): spec for name, spec in self.methods.items()}

    def method(self, name: str) -> MethodSpec | None:
        return self._by_lower.get(name.lower())

    def required_fields(self, type_name: str) -> list[str]:
        fields = self.types.get(type_name, {}).get("fields", ()) or ()
        return [str(f["name"]) for f in fields if f.get("required")]

    @classmethod
    def load(cls, path: str | os.PathLike[str] | None = None) -> BotApiSpec:
        resolved = Path(path) if path is not None else default_spec_path()
        return _load_cached(str(resolved.resolve()))


def default_spec_path() -> Path:
    override = os.environ.get(SPEC_ENV_VAR)
    if override:
        return Path(override)
    # tests/fake_bot_api/spec.py -> parents[3] is the folder that holds the repo,
    # where the shared reference data lives next to it.
    return Path(__file__).resolve().parents[3] / "shared" / "reference" / SPEC_FILE_NAME


@functools.lru_cache(maxsize=4)
def _load_cached(path: str) -> BotApiSpec:
    # Parsing ~1 MB of JSON per test would dominate short tests; the spec is immutable.
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise FileNotFoundError(
            f"Bot API spec not found at {path}; set {SPEC_ENV_VAR} to its location"
        ) from exc
    return BotApiSpec(raw)


def missing_parameter_error(method: MethodSpec, field: FieldSpec) -> ApiError:
    if field.name in _MISSING_MESSAGES:
        return ApiError(400, _MISSING_MESSAGES[field.name])
    if field.accepts_file and field.name in _MEDIA_PARAMETERS:
        return bad_request(f"there is no {field.name} in the request")
    return bad_request(f'parameter "{field.name}" is required')


def is_missing(value: Any) -> bool:
    # The real server cannot tell an empty form value from an absent one.
    return value is None or value == ""


def check_required(method: MethodSpec, params: dict[str, Any]) -> None:
    for field in method.fields:
        if field.required and is_missing(params.get(field.name)):
            raise missing_parameter_error(method, field)


def coerce_params(
    method: MethodSpec,
    raw: dict[str, Any],
    uploads: dict[str, UploadedFile],
) -> dict[str, Any]:
    """Interpret request values by the declared parameter types.

    Form and query values are all strings, JSON bodies carry real types, and nested
    objects may arrive either way; the result is what a handler can rely on: ints are
    ints, objects are dicts/lists, and file parameters are ``UploadedFile`` when the
    request carried the file (directly or through ``attach://<part>``).
    """
    params: dict[str, Any] = {}
    for name, value in raw.items():
        field = method.field(name)
        if field is None:
            # Unknown parameters are ignored by the real server; keep them visible
            # to tests but do not interpret them.
            params[name] = value
            continue
        params[name] = _coerce_value(field, value, uploads)
    for name, upload in uploads.items():
        field = method.field(name)
        if field is not None and field.accepts_file and name not in params:
            params[name] = upload
    return params


def _coerce_value(field: FieldSpec, value: Any, uploads: dict[str, UploadedFile]) -> Any:
    if isinstance(value, UploadedFile):
        return value
    if field.accepts_file and isinstance(value, str) and value.startswith("attach://"):
        part = value.removeprefix("attach://")
        if part in uploads:
            return uploads[part]
        raise bad_request(f"file {part} not found in the request")
    if not isinstance(value, str):
        return value
    types = field.types
    if "Integer" in types:
        parsed_int = _parse_int(value)
        if parsed_int is not None:
            return parsed_int
        if "String" in types:
            return value
        # The real server reads garbage integers as 0 and then complains about the
        # meaning (e.g. "message identifier is not specified"), not the syntax.
        return 0
    if "Float" in types:
        try:
            return float(value)
        except ValueError:
            return 0.0
    if "Boolean" in types:
        return value.strip().lower() in {"true", "1"}
    if field.is_json and value != "":
        if "String" in types and not value.lstrip().startswith(("{", "[")):
            return value
        try:
            return json.loads(value)
        except ValueError as exc:
            message = _JSON_ERROR_MESSAGES.get(
                field.name, f"Bad Request: can't parse {field.name} JSON object"
            )
            raise ApiError(400, message) from exc
    return value


def _parse_int(value: str) -> int | None:
    text = value.strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        return None
