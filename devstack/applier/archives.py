"""Pulumi assets and archives as bytes, the way the Pulumi engine materialises them.

Rules kept from the engine (so the emulator gets the same files `pulumi up` would ship):
- FileArchive of a folder: every regular file below it, names relative to the folder with
  `/` separators, in lexical walk order; `.pulumi` folders are skipped, symlinks to files
  are followed, symlinks to folders are not.
- FileArchive of a .zip is passed through unchanged (the program's archives are folders;
  tests ship zips).
- AssetArchive: an asset becomes one entry under its key; a nested archive's entries are
  placed under `<key>/`. The first entry of a given name wins.
- Relative paths resolve against the current directory (the program's folder during an
  apply, as under the Pulumi CLI). A missing path is an error (the mock runtime itself
  never checks paths, so without this a typo would deploy an empty function).
Zip entries get a fixed timestamp so the same files always give the same zip.

Zipping a real handler package (~25 MB, 750 files) takes most of a second, and every
function of the program ships the same package: `cached_zip_bytes` zips each distinct
archive once per process (keyed by paths, sizes and mtimes, so an edited file re-zips), and
keeps the zip on disk (.devstack/zip-cache) so the next process (`make up` again) reads it
instead of zipping again (0.34 s for the layer here).
"""

from __future__ import annotations

import hashlib
import io
import os
import threading
import zipfile
from collections import OrderedDict
from collections.abc import Hashable
from pathlib import Path

import pulumi

from devstack import paths

_FIXED_ZIP_TIME = (1990, 1, 1, 0, 0, 0)
# Fastest deflate level: half the CPU of the default for a ~10% larger zip; the zip only
# travels over loopback to the emulator.
_ZIP_LEVEL = 1
_BOOKKEEPING_DIR = ".pulumi"


class ArchiveError(ValueError):
    pass


def asset_bytes(asset: pulumi.Asset) -> bytes:
    if isinstance(asset, pulumi.StringAsset):
        return asset.text.encode()
    if isinstance(asset, pulumi.FileAsset):
        path = Path(asset.path)
        if not path.is_file():
            raise ArchiveError(f"FileAsset {asset.path!r}: no such file (cwd {os.getcwd()})")
        return path.read_bytes()
    raise ArchiveError(f"{type(asset).__name__} is not supported (no remote fetches here)")


def archive_entries(archive: pulumi.Archive) -> dict[str, bytes]:
    """name -> content for every file of the archive, in archive order."""
    if isinstance(archive, pulumi.AssetArchive):
        entries: dict[str, bytes] = {}
        # The engine walks a Go map (random order); sorted keys make the zip reproducible.
        for key in sorted(archive.assets):
            value = archive.assets[key]
            if isinstance(value, pulumi.Asset):
                entries.setdefault(key, asset_bytes(value))
            elif isinstance(value, pulumi.Archive):
                for sub, data in archive_entries(value).items():
                    entries.setdefault(f"{key.rstrip('/')}/{sub}", data)
            else:
                raise ArchiveError(f"AssetArchive entry {key!r} is a {type(value).__name__}")
        return entries
    if isinstance(archive, pulumi.FileArchive):
        return _path_entries(Path(archive.path))
    raise ArchiveError(f"{type(archive).__name__} is not supported (no remote fetches here)")


def _path_entries(path: Path) -> dict[str, bytes]:
    name = path.name.lower()
    if name.endswith(".zip"):
        with zipfile.ZipFile(_existing_file(path)) as zf:
            return {i.filename: zf.read(i) for i in zf.infolist() if not i.is_dir()}
    if not path.is_dir():
        raise ArchiveError(
            f"FileArchive {str(path)!r} is neither a folder nor a .zip "
            f"(cwd {os.getcwd()})"
        )
    entries: dict[str, bytes] = {}
    for root, dirs, files in os.walk(path, followlinks=False):
        dirs[:] = sorted(d for d in dirs if d != _BOOKKEEPING_DIR)
        for file in sorted(files):
            full = Path(root) / file
            if full.is_dir():  # a symlink to a folder: the engine skips it
                continue
            entries[full.relative_to(path).as_posix()] = full.read_bytes()
    # os.walk visits a folder's files before its subfolders; the engine's walk is lexical
    # over full paths, so sort to match.
    return dict(sorted(entries.items()))


def _existing_file(path: Path) -> Path:
    if not path.is_file():
        raise ArchiveError(f"FileArchive {str(path)!r}: no such file (cwd {os.getcwd()})")
    return path


def zip_bytes(archive: pulumi.Archive) -> bytes:
    """The archive as a zip, in memory. A .zip FileArchive is returned byte for byte."""
    if isinstance(archive, pulumi.FileArchive) and archive.path.lower().endswith(".zip"):
        return _existing_file(Path(archive.path)).read_bytes()
    buffer = io.BytesIO()
    with zipfile.ZipFile(
        buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=_ZIP_LEVEL
    ) as zf:
        for name, data in archive_entries(archive).items():
            info = zipfile.ZipInfo(name, date_time=_FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16  # readable by the Lambda runtime user
            zf.writestr(info, data, compresslevel=_ZIP_LEVEL)
    return buffer.getvalue()


def fingerprint(item: pulumi.Asset | pulumi.Archive) -> Hashable:
    """Identifies an archive's current content without reading it (paths, sizes, mtimes)."""
    if isinstance(item, pulumi.StringAsset):
        return ("text", item.text)
    if isinstance(item, (pulumi.FileAsset, pulumi.FileArchive)):
        path = Path(item.path).resolve()
        if path.is_dir():
            stats = []
            for root, dirs, files in os.walk(path, followlinks=False):
                dirs[:] = sorted(d for d in dirs if d != _BOOKKEEPING_DIR)
                for file in sorted(files):
                    info = (Path(root) / file).stat()
                    stats.append((os.path.join(root, file), info.st_size, info.st_mtime_ns))
            return ("dir", str(path), tuple(stats))
        info = path.stat() if path.exists() else None
        return ("file", str(path), info and (info.st_size, info.st_mtime_ns))
    if isinstance(item, pulumi.AssetArchive):
        return ("assets", tuple((k, fingerprint(v)) for k, v in sorted(item.assets.items())))
    return ("other", id(item))


class ZipCache:
    """Thread-safe: concurrent requests for one archive zip it once, the rest wait.

    disk: a folder that keeps the zips between processes, named by their fingerprint's
    digest; the newest `max_entries` are kept.
    """

    def __init__(self, max_entries: int = 4, disk: Path | None = None) -> None:
        self._max_entries = max_entries
        self._disk = disk
        self._lock = threading.Lock()
        self._entries: OrderedDict[Hashable, bytes] = OrderedDict()
        self._building: dict[Hashable, threading.Lock] = {}

    def zip(self, archive: pulumi.Archive) -> bytes:
        key = fingerprint(archive)
        with self._lock:
            build_lock = self._building.setdefault(key, threading.Lock())
        with build_lock:
            with self._lock:
                if key in self._entries:
                    self._entries.move_to_end(key)
                    return self._entries[key]
            data = self._from_disk(key)
            if data is None:
                data = zip_bytes(archive)
                self._to_disk(key, data)
            with self._lock:
                self._entries[key] = data
                while len(self._entries) > self._max_entries:
                    self._entries.popitem(last=False)
                self._building.pop(key, None)
            return data


    def _file(self, key: Hashable) -> Path | None:
        if self._disk is None or (isinstance(key, tuple) and key[:1] == ("other",)):
            return None  # no disk, or a key that only means something in this process
        return self._disk / (hashlib.sha256(repr(key).encode()).hexdigest() + ".zip")

    def _from_disk(self, key: Hashable) -> bytes | None:
        file = self._file(key)
        if file is None:
            return None
        try:
            return file.read_bytes()
        except FileNotFoundError:  # never made, or pruned by another process just now
            return None

    def _to_disk(self, key: Hashable, data: bytes) -> None:
        file = self._file(key)
        if file is None:
            return
        file.parent.mkdir(parents=True, exist_ok=True)
        partial = file.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        partial.write_bytes(data)
        partial.replace(file)  # atomic: a reader never sees half a zip
        self._prune(file.parent)

    def _prune(self, folder: Path) -> None:
        """Keep the newest max_entries zips; other processes may prune at the same time."""
        dated = []
        for zipped in folder.glob("*.zip"):
            try:
                dated.append((zipped.stat().st_mtime, zipped))
            except FileNotFoundError:
                continue
        for _, old in sorted(dated, reverse=True)[self._max_entries:]:
            old.unlink(missing_ok=True)


_ZIP_CACHE = ZipCache(disk=paths.STATE / "zip-cache")


def cached_zip_bytes(archive: pulumi.Archive) -> bytes:
    return _ZIP_CACHE.zip(archive)
