"""Reading members of ``.tar.xz`` (or any tar) archives in one streaming pass, without unpacking to disk."""

from __future__ import annotations

import lzma
import tarfile
import zlib
from collections.abc import Iterator
from pathlib import Path

from .errors import MotionFormatError


def iter_archive(path: str | Path, suffix: str | tuple[str, ...] = ".bvh") -> Iterator[tuple[str, bytes]]:
    """Yield ``(member name, bytes)`` for every regular file whose name ends with ``suffix``, in archive order.

    The archive is decompressed once, sequentially (the fast way for xz). A missing, truncated or corrupt
    archive raises ``MotionFormatError`` naming the archive and the member where reading stopped.
    """
    member = ""
    try:
        with tarfile.open(path, mode="r|*") as archive:
            for info in archive:
                member = info.name
                if info.isfile() and info.name.endswith(suffix):
                    handle = archive.extractfile(info)
                    yield info.name, handle.read()
    except FileNotFoundError:
        raise MotionFormatError("archive not found", str(path)) from None
    except (tarfile.TarError, lzma.LZMAError, zlib.error, EOFError, OSError) as error:
        where = f"after member {member}" if member else "at the start"
        raise MotionFormatError(f"corrupt or truncated archive: {error}", str(path), where) from None
