"""Files both ways: documents and photos the bot uploads or re-sends by file_id, files a
user sends, getFile and the download URL."""

from __future__ import annotations

import itertools
import mimetypes
import re
import secrets
from pathlib import PurePosixPath
from typing import Any

from aiohttp import web

from .images import image_size
from .markup import validate_reply_markup
from .messages import MAX_CAPTION_LENGTH, Messages
from .records import Json, StoredFile
from .spec import ApiError, UploadedFile, bad_request

MAX_DOWNLOAD_SIZE = 20 * 1024 * 1024
MAX_UPLOAD_SIZE = 50 * 1024 * 1024


class Files(Messages):
    """The files on the server, both ways: uploads, file_ids sent again, downloads."""

    def __init__(self) -> None:
        super().__init__()
        self._files: dict[str, StoredFile] = {}
        self._files_by_path: dict[str, StoredFile] = {}
        self._file_counter = itertools.count(1)
        self._handlers.update(
            {
                "sendDocument": self._send_document,
                "sendPhoto": self._send_photo,
                "getFile": self._get_file,
            }
        )

    def file_bytes(self, file_id: str) -> bytes:
        return self._files[file_id].data

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return self._json_response(401, ApiError(401, "Unauthorized").to_json())
        stored = self._files_by_path.get(request.match_info["path"])
        if stored is None:
            return self._json_response(404, ApiError(404, "Not Found").to_json())
        return web.Response(
            body=stored.data,
            content_type=stored.mime_type or "application/octet-stream",
        )

    async def _send_document(self, params: Json) -> Json:
        return await self._send_media("document", params)

    async def _send_photo(self, params: Json) -> Json:
        return await self._send_media("photo", params)

    async def _send_media(self, kind: str, params: Json) -> Json:
        caption, entities = self._format(
            params.get("caption"), params.get("parse_mode"), params.get("caption_entities")
        )
        markup = validate_reply_markup(params.get("reply_markup"))
        chat = self._chat(params, sending=True)
        stored_file = self._input_file(kind, params.get(kind))
        if len(caption) > MAX_CAPTION_LENGTH:
            raise bad_request("message caption is too long")
        content: Json = {}
        if kind == "photo":
            content["photo"] = self._photo_sizes(stored_file)
        else:
            content["document"] = stored_file.document_json()
        if caption:
            content["caption"] = caption
        if entities:
            content["caption_entities"] = entities
        stored = self._new_bot_message(
            chat,
            content,
            markup,
            params,
            document=stored_file if kind == "document" else None,
            photo=stored_file if kind == "photo" else None,
        )
        method = "sendPhoto" if kind == "photo" else "sendDocument"
        return self._emit(chat, stored, method, params, edited=False)

    def _input_file(self, kind: str, value: Any) -> StoredFile:
        if isinstance(value, UploadedFile):
            if kind == "photo":
                size = image_size(value.data)
                if size is None:
                    raise bad_request("IMAGE_PROCESS_FAILED")
                # Telegram re-encodes photos to JPEG and drops the file name.
                return self._store_file(
                    "photo", value.data, None, "image/jpeg", width=size[0], height=size[1]
                )
            return self._store_file(kind, value.data, value.filename, value.content_type)
        if isinstance(value, str) and value:
            existing = self._files.get(value)
            if existing is not None:
                if existing.kind != kind:
                    raise bad_request(
                        f"can't use file of type {existing.kind.title()} as {kind.title()}"
                    )
                return existing
            if re.match(r"^https?://", value):
                # No internet here: a URL becomes an empty file named after its path.
                name = PurePosixPath(value.split("?", 1)[0]).name or "file"
                if kind == "photo":
                    return self._store_file("photo", b"", name, "image/jpeg", width=1, height=1)
                return self._store_file(kind, b"", name, None)
        raise bad_request("wrong file identifier/HTTP URL specified")

    def _store_file(
        self,
        kind: str,
        data: bytes,
        filename: str | None,
        mime_type: str | None,
        *,
        width: int | None = None,
        height: int | None = None,
    ) -> StoredFile:
        number = next(self._file_counter)
        if not mime_type or mime_type == "application/octet-stream":
            guessed = mimetypes.guess_type(filename or "")[0]
            mime_type = guessed or mime_type or "application/octet-stream"
        suffix = PurePosixPath(filename or "").suffix or (
            mimetypes.guess_extension(mime_type or "") or ""
        )
        stored = StoredFile(
            file_id=f"FAKE{kind[:3].upper()}{number:08d}{secrets.token_hex(6)}",
            file_unique_id=f"AgAD{number:06d}",
            kind=kind,
            data=data,
            filename=filename,
            mime_type=mime_type,
            file_path=f"{kind}s/file_{number}{suffix}",
            width=width,
            height=height,
        )
        self._files[stored.file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    def _photo_sizes(self, stored: StoredFile) -> list[Json]:
        """A small thumbnail plus the picture itself, like Telegram's size ladder."""
        width, height = stored.width or 0, stored.height or 0
        sizes: list[Json] = []
        if max(width, height) > 90:
            scale = 90 / max(width, height)
            thumb = StoredFile(
                file_id=stored.file_id + "s",
                file_unique_id=stored.file_unique_id + "s",
                kind="photo",
                data=stored.data,
                filename=stored.filename,
                mime_type=stored.mime_type,
                file_path=stored.file_path.replace("file_", "thumb_", 1),
                width=max(1, round(width * scale)),
                height=max(1, round(height * scale)),
            )
            self._files[thumb.file_id] = thumb
            self._files_by_path[thumb.file_path] = thumb
            sizes.append(thumb.photo_size_json())
        sizes.append(stored.photo_size_json())
        return sizes

    async def _get_file(self, params: Json) -> Json:
        stored = self._files.get(str(params.get("file_id")))
        if stored is None:
            raise bad_request("invalid file_id")
        if len(stored.data) > MAX_DOWNLOAD_SIZE:
            raise bad_request("file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "file_path": stored.file_path,
        }
