"""Uploads becoming images (contract images-annotations.md §2.1–§2.2, PIXELS.md §4): the
status sequence PIMS runs, through the same resolvers and permission checks as REST, the file
work in a worker process.

    20 extracting (the bytes moved to upload-<uuid4>/<name>) → 10 detecting format (or 11)
    → 60 checking integrity (or 61) → 30 converting when needed (a child file
    processed/visualisation.PYRTIFF, 104 once done, 31 on failure) → histograms → abstract
    image → abstract slices → 100 deployed → properties → an image instance per project

An error status is written on the file and copied to its ancestors; nothing half-made stays:
an abstract image whose slices or instances could not all be made is deleted again. Uploads
that a restart interrupted end in their error status at the next start
(`fail_interrupted_imports`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from itertools import product
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TypeVar

from sqlalchemy import insert, update

from db.models import Property, UploadedFile
from resolvers.abstract_image import (
    AbstractImageFields,
    AbstractSliceFields,
    create_abstract_image,
    create_abstract_slice,
    delete_abstract_image,
)
from resolvers.acl import WRITE, require
from resolvers.context import Context
from resolvers.errors import CytogateError, InvalidInput, NotSupported, TooLarge
from resolvers.image import ImageInstanceFields, create_image_instance
from resolvers.metadata_target import ABSTRACT_IMAGE_CLASS
from resolvers.project_access import project_access
from resolvers.storage import storages_by_id, uploaded_files_by_id
from resolvers.upload import StagedFile
from resolvers.uploaded_file import UploadedFileFields, create_uploaded_file, update_uploaded_file

if TYPE_CHECKING:
    from db.engine import Database
    from imaging.service import PixelService

#: The longest property key the table holds (db/models/metadata.py).
MAX_PROPERTY_KEY: Final = 255

__all__ = [
    "ImportOutcome",
    "UploadRequest",
    "check_upload",
    "fail_interrupted_imports",
    "import_received",
    "parse_properties",
    "register_upload",
    "run_import",
    "save_properties",
    "sent_name",
    "upload_image",
]

log = logging.getLogger(__name__)
T = TypeVar("T")

UPLOADED: Final = 0
DETECTING_FORMAT: Final = 10
EXTRACTING_DATA: Final = 20
CONVERTING: Final = 30
ERROR_DEPLOYMENT: Final = 41
CHECKING_INTEGRITY: Final = 60
DEPLOYED: Final = 100
CONVERTED: Final = 104
#: The in-progress statuses an import passes through: left in one by a restart, an upload
#: can never finish.
IN_PROGRESS: Final = (DETECTING_FORMAT, EXTRACTING_DATA, CONVERTING, 40, 50, CHECKING_INTEGRITY)


@dataclass(frozen=True, slots=True)
class UploadRequest:
    """What `POST /upload` (or the `imageUpload` mutation) asks: where, for which projects,
    with which properties."""

    storage_id: int
    project_ids: tuple[int, ...] = ()
    properties: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        # a project named twice gets the image once, not a 409 that undoes the whole import
        object.__setattr__(self, "project_ids", tuple(dict.fromkeys(self.project_ids)))


@dataclass
class ImportOutcome:
    """The uploaded file (its last row), and per image made the abstract image's and its
    instances' ids; `error` when the import failed."""

    file: Any
    images: list[tuple[int, list[int]]] = field(default_factory=list)
    error: str | None = None


async def check_upload(ctx: Context, request: UploadRequest) -> None:
    """Refuse an upload before any byte is stored: a user (not a guest), properties the
    database can hold (no NUL: they are written once the image is made), WRITE on an existing
    storage, each project existing (404) and open to the caller's writes."""
    ctx.require_user("upload images")
    if any("\x00" in text for pair in request.properties for text in pair):
        raise InvalidInput("Property keys and values must not hold NUL characters")
    await ctx.found(storages_by_id, request.storage_id, "Storage")
    await require(ctx, request.storage_id, WRITE, "You cannot upload to this storage")
    for project_id in request.project_ids:
        (await project_access(ctx, project_id)).require_writable()


async def register_upload(
    ctx: Context, request: UploadRequest, original_name: str, relative: str, size: int
) -> Any:
    """The uploaded file's row for bytes already in the store, status EXTRACTING_DATA."""
    viewer = ctx.require_user("upload images")
    fields = UploadedFileFields(
        user=viewer.id, storage=request.storage_id, original_filename=original_name,
        filename=relative, ext="", content_type="", size=size, status=UPLOADED,
        projects=list(request.project_ids),
    )  # fmt: skip
    row = (await create_uploaded_file(ctx, fields)).row
    return await _set(ctx, row, status=EXTRACTING_DATA)


def _fields(row: Any, **changes: Any) -> UploadedFileFields:
    current = UploadedFileFields(
        user=row.user_id, storage=row.storage_id, parent=row.parent_id,
        original_filename=row.original_filename, filename=row.filename, ext=row.ext,
        content_type=row.content_type, size=row.size, status=row.status,
        projects=None if row.projects is None else list(row.projects),
    )  # fmt: skip
    return replace(current, **changes)


async def _set(ctx: Context, row: Any, **changes: Any) -> Any:
    """The file updated through the REST resolver (WRITE on its storage)."""
    return (await update_uploaded_file(ctx, row.id, _fields(row, **changes))).row


async def _fail(ctx: Context, row: Any, status: int) -> Any:
    """The error status on the file and every ancestor (PIXELS.md §4)."""
    row = await _set(ctx, row, status=status)
    parent_id = row.parent_id
    while parent_id is not None:
        parent = await ctx.loader(uploaded_files_by_id).load(parent_id)
        if parent is None:
            break
        await _set(ctx, parent, status=status)
        parent_id = parent.parent_id
    return row


async def save_properties(ctx: Context, image_id: int, pairs: list[tuple[str, str]]) -> None:
    """Store key/value properties on an abstract image: the upload's `keys`/`values` and the
    file's own metadata, in one statement. No command: an import is not undone. A key the
    property table cannot hold (empty, or longer than its column) is left out."""
    rows = [
        {"domain_class_name": ABSTRACT_IMAGE_CLASS, "domain_ident": image_id, "key": key,
         "value": value}
        for key, value in pairs
        if key and len(key) <= MAX_PROPERTY_KEY
    ]  # fmt: skip
    if rows:
        async with ctx.db.transaction() as conn:
            await conn.execute(insert(Property), rows)


async def run_import(
    ctx: Context, pixels: PixelService, row: Any, request: UploadRequest
) -> ImportOutcome:
    """Import the uploaded file `row` (status EXTRACTING_DATA, bytes in the store) as the
    caller; never raises for a bad file: the outcome carries the error and the file its
    status."""
    from imaging import importer

    path = pixels.store.resolve(row.filename)
    processed = path.parent / "processed"
    try:
        row = await _set(ctx, row, status=DETECTING_FORMAT)
        detected = await _in_worker(ctx, pixels, importer.detect, str(path))
        if isinstance(detected, importer.ImportRefused):
            return ImportOutcome(await _fail(ctx, row, detected.status), error=detected.reason)
        row = await _set(ctx, row, content_type=detected, status=CHECKING_INTEGRITY)
        described = await _in_worker(ctx, pixels, importer.check, str(path), detected)
        if isinstance(described, importer.ImportRefused):
            return ImportOutcome(await _fail(ctx, row, described.status), error=described.reason)
        shown, shown_format = path, detected
        if importer.needs_conversion(described):
            row = await _set(ctx, row, status=CONVERTING)
            child = (await create_uploaded_file(ctx, UploadedFileFields(
                user=row.user_id, storage=row.storage_id, parent=row.id,
                original_filename="visualisation.PYRTIFF",
                filename=str(Path(row.filename).parent / "processed/visualisation.PYRTIFF"),
                ext="", content_type="PYRTIFF", size=0, status=CONVERTING,
            ))).row  # fmt: skip
            target = processed / "visualisation.PYRTIFF"
            converted = await _in_worker(
                ctx, pixels, importer.convert, str(path), detected, str(target)
            )
            if isinstance(converted, importer.ImportRefused):
                await _fail(ctx, child, converted.status)
                row = await ctx.loader(uploaded_files_by_id).load(row.id) or row
                return ImportOutcome(row, error=converted.reason)
            await _set(ctx, child, status=CONVERTED, size=target.stat().st_size)
            shown, shown_format = target, converted
        else:
            link = processed / f"visualisation.{detected}"
            if not link.exists():
                os.symlink(Path("..") / path.name, link)
        problem = await _in_worker(ctx, pixels, importer.describe, str(shown), shown_format,
                                   str(processed / "histogram.json"))  # fmt: skip
        if problem:
            log.info("no histogram for %s: %s", row.filename, problem)
        outcome = await _deploy(ctx, row, described, request)
    except CytogateError as error:
        log.info("import of %s refused: %s", row.filename, error.message)
        failed = await _fail_quietly(ctx, row)
        return ImportOutcome(failed, error=error.message)
    except Exception:
        # a fault of ours on some file (a worker step crashing, a write refused): the upload
        # still ends in an error status, not stuck in progress, and the answer is a 4xx
        log.exception("import of %s failed", row.filename)
        failed = await _fail_quietly(ctx, row)
        return ImportOutcome(failed, error="The import failed on this file")
    return outcome


async def _in_worker(ctx: Context, pixels: PixelService, fn: Callable[..., T], *args: Any) -> T:
    """A file step in a worker process; the request's connection goes back to the pool
    first, as a step may take a minute."""
    await ctx.db.release()
    return await pixels.in_worker(fn, *args)


async def _fail_quietly(ctx: Context, row: Any) -> Any:
    try:
        return await _fail(ctx, row, ERROR_DEPLOYMENT)
    except CytogateError:
        return row


async def _deploy(ctx: Context, row: Any, described: Any, request: UploadRequest
                  ) -> ImportOutcome:  # fmt: skip
    """Abstract image, a slice per plane (channel × z × t), DEPLOYED, properties, instances;
    all or nothing."""
    channels, depth, duration = described.planes
    image = (await create_abstract_image(ctx, AbstractImageFields(
        uploaded_file=row.id, original_filename=row.original_filename, width=described.width,
        height=described.height, depth=depth, duration=duration, channels=channels,
        sample_per_pixel=described.samples, bit_per_sample=described.bits,
        physical_size_x=described.mpp_x, physical_size_y=described.mpp_y,
        magnification=described.magnification, tile_size=256,
    ))).row  # fmt: skip
    instances: list[int] = []
    try:
        name = "R|G|B" if described.samples == 3 else None
        for time, z_stack, channel in product(range(duration), range(depth), range(channels)):
            await create_abstract_slice(ctx, AbstractSliceFields(
                image=image.id, uploaded_file=row.id, channel=channel, z_stack=z_stack,
                time=time, channel_name=name,
            ))  # fmt: skip
        row = await _set(ctx, row, status=DEPLOYED)
        await save_properties(ctx, image.id, [*request.properties, *described.properties])
        for project_id in request.project_ids:
            made = await create_image_instance(
                ctx, ImageInstanceFields(base_image=image.id, project=project_id)
            )
            instances.append(made.row.id)
    except Exception:  # whatever failed: no half-made image stays
        await _undo_deploy(ctx, image.id, instances)
        raise
    return ImportOutcome(row, [(image.id, instances)])


async def _undo_deploy(ctx: Context, image_id: int, instances: list[int]) -> None:
    from resolvers.image import delete_image_instance

    for instance_id in instances:
        await delete_image_instance(ctx, instance_id)
    await delete_abstract_image(ctx, image_id)


async def fail_interrupted_imports(database: Database) -> int:
    """At start-up: uploads a previous process left in progress go to their error status
    (status + 1), never stuck. Housekeeping, not a client's write: no command is recorded."""
    async with database.transaction() as conn:
        result = await conn.execute(
            update(UploadedFile)
            .where(UploadedFile.status.in_(IN_PROGRESS))
            .values(status=UploadedFile.status + 1)
        )
    return int(result.rowcount or 0)


def parse_properties(keys: str | None, values: str | None) -> tuple[tuple[str, str], ...]:
    """`keys=a,b&values=x,y` as pairs; 400 when the lists differ in length."""
    names = [k for k in (keys or "").split(",") if k]
    found = [v for v in (values or "").split(",")] if values else []
    if len(names) != len(found):
        raise InvalidInput("keys and values must have as many items")
    return tuple(zip(names, found, strict=True))


def sent_name(file: StagedFile) -> str:
    """The name an uploaded image is registered under: the one its part was sent with, made
    storable, as PostgreSQL's text holds neither NUL nor lone surrogates (which is how the
    multipart reader keeps a name's bytes that are not UTF-8): NULs go, surrogates become
    U+FFFD."""
    name = "".join("\ufffd" if "\ud800" <= char <= "\udfff" else char
                   for char in file.filename or "" if char != "\x00")  # fmt: skip
    return name or "image"


async def import_received(
    ctx: Context, pixels: PixelService, request: UploadRequest, file: StagedFile, *, sync: bool
) -> ImportOutcome:
    """Move a staged file into its upload folder, register it (under the name it was sent
    with) and import it: now (`sync`), or in the background on a lease of its own, the outcome
    then holding only the file. `POST /upload` and the `imageUpload` mutation both end here,
    after `check_upload`."""
    name = sent_name(file)
    path, relative = pixels.store.new_upload(name)
    # a rename when the file came to the store's disk, else a copy (a GraphQL upload is
    # staged in the data directory, which may be another disk than the images')
    await asyncio.to_thread(shutil.move, file.path, path)
    try:
        row = await register_upload(ctx, request, name, relative, file.size)
    except BaseException:
        pixels.store.discard(relative)  # no file without its row
        raise
    if sync:
        return await run_import(ctx, pixels, row, request)
    pixels.spawn(_import_in_background(ctx, pixels, row, request))
    return ImportOutcome(row)


async def upload_image(
    ctx: Context, request: UploadRequest, file: StagedFile, *, sync: bool
) -> ImportOutcome:
    """The `imageUpload` mutation: `file` is what the multipart request streamed to disk
    (gateway/graphql_view.py); the same checks and import as `POST /upload`, a failed
    synchronous import being a 400 once the file is in its error status."""
    limit = ctx.settings.upload_max_bytes  # the view stages under the larger upload limit
    if file.size > limit:
        raise TooLarge(f"The file is larger than the upload limit ({limit} bytes)")
    await check_upload(ctx, request)
    if ctx.settings.image_server_url:  # its files are where the relayed pixels are read
        raise NotSupported("With an external image server, upload files to it: POST /upload")
    if ctx.pixels is None:
        raise NotSupported("This process runs no image server to import files")
    outcome = await import_received(ctx, ctx.pixels, request, file, sync=sync)
    if outcome.error is not None:
        raise InvalidInput(outcome.error)
    return outcome


async def _import_in_background(
    ctx: Context, pixels: PixelService, row: Any, request: UploadRequest
) -> ImportOutcome:
    """`run_import` on a lease of its own (the request that started it has answered)."""
    async with ctx.db.database.lease() as lease:
        own = Context(lease, ctx.settings, ctx.viewer, trusted=True, pixels=pixels)
        return await run_import(own, pixels, row, request)
