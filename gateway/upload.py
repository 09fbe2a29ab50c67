"""`POST /upload`: PIMS's route (outside `/api`), served by the built-in image server
(contract images-annotations.md §2.2, PIXELS.md §4).

Authenticated like the API (the middleware: both HMAC variants, bearer token). The request is
checked before a byte is stored (storage WRITE, projects); the multipart file is streamed to
disk by `rest_compat/upload.stage` (never whole in memory) under the upload size limit and a
free-space check, moved into its `upload-<uuid4>/` folder, registered, then imported:
at once (`sync=true`, the answer lists the images) or in the background (`sync=false`, the
answer comes at once and the uploaded file's status tells the progress). With an external
image server (`CYTOGATE_IMAGE_SERVER_URL`), the checked request is relayed to it instead.

Answers are PIMS's: `[{status: 200, name, size, uploadedFile, images}]`, or on failure a 4xx
with `[{status, error, files: [{size: 0, error}]}]`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from aiohttp import web

from gateway.state import BRIDGE, PIXELS, SETTINGS, make_context
from resolvers.errors import CytogateError, InvalidInput
from resolvers.image_import import (
    ImportOutcome,
    UploadRequest,
    check_upload,
    import_received,
    parse_properties,
    sent_name,
)
from resolvers.upload import StagedFile
from rest_compat.upload import FileStore, stage

if TYPE_CHECKING:
    from imaging.service import PixelService

__all__ = ["NoSpace", "upload_handler"]

#: Free space kept on the images disk whatever the upload.
RESERVE: Final = 256 * 1024 * 1024


def _failure(status: int, message: str, name: str | None = None) -> web.Response:
    body: dict[str, Any] = {"status": status, "error": message,
                            "files": [{"size": 0, "error": message}]}  # fmt: skip
    if name is not None:
        body["name"] = name
    return web.json_response([body], status=status)


def _ids(text: str | None, name: str) -> tuple[int, ...]:
    """The ids of a comma-separated parameter; a 400 for anything else, a number beyond the
    64-bit range of ids included (the database would refuse it as a bound value: a 500)."""
    if not text:
        return ()
    try:
        ids = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise InvalidInput(f"Parameter {name} takes ids, not {text!r}") from None
    if not all(-(2**63) <= number < 2**63 for number in ids):
        raise InvalidInput(f"Parameter {name} takes 64-bit ids, not {text!r}")
    return ids


def _request(query: Any) -> tuple[UploadRequest, bool]:
    storage = query.get("idStorage") or query.get("storage")
    if not storage:
        raise InvalidInput("The upload needs a storage (idStorage or storage)")
    (storage_id,) = _ids(storage, "storage")[:1] or (0,)
    projects = _ids(query.get("idProject") or query.get("projects"), "projects")
    sync = (query.get("sync") or "false").lower() == "true"
    properties = parse_properties(query.get("keys"), query.get("values"))
    return UploadRequest(storage_id, projects, properties), sync


class NoSpace(CytogateError):
    code = "INSUFFICIENT_STORAGE"
    status = 507


def _image_store(pixels: PixelService, limit: int) -> FileStore:
    """Where `POST /upload` streams its file: the image store's incoming folder, PIMS's limits
    (507 without `RESERVE` bytes left free), no digest."""
    return FileStore(pixels.store.root, limit, reserve=RESERVE,
                     free=lambda _: pixels.store.free_bytes(), full=NoSpace,
                     hashed=False)  # fmt: skip


async def _receive(request: web.Request, pixels: PixelService, limit: int) -> StagedFile:
    """The first file part of the body, streamed to the image store's incoming folder."""
    staged = await stage(request, _image_store(pixels, limit), pixels.store.incoming.name)
    if staged.file is None:
        raise InvalidInput("The upload carries no file (a files[] part with a file name)")
    return staged.file


async def _json(request: web.Request, outcome: ImportOutcome, sync: bool) -> list[dict[str, Any]]:
    from rest_compat.abstract_image import abstract_image_json
    from rest_compat.image import image_json
    from rest_compat.uploaded_file import uploaded_file_json

    bridge = request.app[BRIDGE]
    uploaded = await bridge.show(request, "UploadedFileShow", outcome.file.id, uploaded_file_json)
    images = []
    if sync:
        for image_id, instance_ids in outcome.images:
            image = await bridge.show(request, "AbstractImageShow", image_id, abstract_image_json)
            instances = [await bridge.show(request, "ImageInstanceShow", i, image_json)
                         for i in instance_ids]  # fmt: skip
            images.append({"image": image, "imageInstances": instances})
    return [{"status": 200, "name": outcome.file.original_filename, "size": outcome.file.size,
             "uploadedFile": uploaded, "images": images}]  # fmt: skip


async def _relayed(request: web.Request, pixels: PixelService, url: str) -> web.Response:
    """With an external image server, the upload goes to it, which imports the file and
    registers it here through the API, as PIMS does with core: the file is where the relayed
    pixel routes will look for it."""
    from imaging.errors import RelayFailed
    from imaging.relay import relay_upload

    try:
        return await relay_upload(pixels, url, request)
    except RelayFailed as error:
        return _failure(502, error.message)


async def upload_handler(request: web.Request) -> web.StreamResponse:
    """Serve `POST /upload` (see the module docstring)."""
    settings, pixels = request.app[SETTINGS], request.app[PIXELS]
    ctx = make_context(request, trusted=True)
    name: str | None = None
    try:
        upload, sync = _request(request.query)
        await check_upload(ctx, upload)
        await ctx.db.release()  # receiving may take minutes: hold no connection meanwhile
        if settings.image_server_url:
            return await _relayed(request, pixels, settings.image_server_url)
        received = await _receive(request, pixels, settings.upload_max_bytes)
        name = sent_name(received)
        outcome = await import_received(ctx, pixels, upload, received, sync=sync)
    except CytogateError as error:
        return _failure(error.status, error.message, name)
    if outcome.error is not None:
        return _failure(400, outcome.error, name)
    return web.json_response(await _json(request, outcome, sync))
