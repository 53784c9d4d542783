"""Keeping a photo or a voice note that came from a chat platform, for every platform alike.

A platform's file id, unique id or media id is a string someone else chose, so it never
names a file here: a file is named by the SHA-256 of what is kept, which cannot leave its
folder, and the same photo sent twice is kept once. What a file is comes from its first
bytes (magic numbers), not from a name or a content type the sender controls, and that
decides its extension. A photo loses what describes it rather than draws it (EXIF with
the phone's GPS position, XMP, IPTC) before it is kept, so it is never forwarded to staff
or a group with the owner's home on it.
"""

from __future__ import annotations

import enum
import hashlib
import io
import os
import secrets
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, JpegImagePlugin, PngImagePlugin

from storage.attachment.models import AttachmentKind
from storage.config import Settings

MB = 1024 * 1024
# Pillow's name for each photo type: the file is opened as that type only.
PHOTO_FORMATS = {".jpg": "JPEG", ".png": "PNG", ".webp": "WEBP", ".gif": "GIF"}
# JPEG segments that draw the picture or describe its colours; any other (APP1 EXIF or XMP,
# APP13 IPTC, APP2 MPF with its second picture, a COM comment) describes the photo.
DRAWING_SEGMENTS = (
    ("APP0", b"JFIF\x00"),
    ("APP0", b"JFXX\x00"),
    ("APP2", b"ICC_PROFILE\x00"),
    ("APP14", b"Adobe"),
)
# ISO media brands a phone's voice recording comes in (.m4a); its major brand is at 8:12.
AUDIO_BRANDS = {
    b"M4A ",
    b"M4B ",
    b"mp41",
    b"mp42",
    b"isom",
    b"iso2",
    b"3gp4",
    b"3gp5",
    b"3gp6",
    b"3g2a",
}
# What Pillow raises on a file that only looks like an image.
UNREADABLE = (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error, zlib.error)


class Refusal(enum.StrEnum):
    """Why a file was not kept, as a code the conversation turns into words."""

    TOO_LARGE = "too_large"
    NOT_A_PHOTO = "not_a_photo"
    NOT_A_VOICE = "not_a_voice"


class AttachmentRefused(Exception):
    """A file that is not kept; the channel drops it and the sender is told ``reason``."""

    def __init__(self, reason: Refusal, detail: str) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason


def detect(data: bytes) -> tuple[AttachmentKind, str] | None:
    """Photo or voice, and the extension for it, from the magic number; None if neither."""
    head = data[:16]
    if head.startswith(b"\xff\xd8\xff"):
        return AttachmentKind.PHOTO, ".jpg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return AttachmentKind.PHOTO, ".png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return AttachmentKind.PHOTO, ".webp"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return AttachmentKind.PHOTO, ".gif"
    if head.startswith(b"#!AMR"):  # AMR-NB and AMR-WB ("#!AMR-WB")
        return AttachmentKind.VOICE, ".amr"
    if head.startswith((b"#!SILK", b"\x02#!SILK")):  # WeChat's voice, with or without its 0x02
        return AttachmentKind.VOICE, ".silk"
    if head.startswith(b"OggS"):  # Telegram's voice notes: Opus in Ogg
        return AttachmentKind.VOICE, ".ogg"
    if head[4:8] == b"ftyp" and head[8:12] in AUDIO_BRANDS:
        return AttachmentKind.VOICE, ".m4a"
    if head.startswith(b"ID3"):
        return AttachmentKind.VOICE, ".mp3"
    if len(head) >= 2 and head[0] == 0xFF:
        if head[1] & 0xF6 == 0xF0:  # ADTS: 12 sync bits, layer 00
            return AttachmentKind.VOICE, ".aac"
        if head[1] & 0xE0 == 0xE0 and head[1] & 0x06:  # an MPEG audio frame: 11 sync bits
            return AttachmentKind.VOICE, ".mp3"
    return None


@dataclass(frozen=True)
class Shelf:
    """Where one platform's photos and voice notes are kept, and how big one may be: the
    settings read once, for every channel alike."""

    folder: Path
    max_bytes: int

    @classmethod
    def of(cls, settings: Settings, platform: str) -> Shelf:
        return cls(Path(settings.attachments_dir) / platform, settings.attachment_max_mb * MB)

    def admit(self, size: int | None) -> None:
        """Refuse a file before fetching it, when its size is known and too big."""
        if size is not None and size > self.max_bytes:
            raise AttachmentRefused(Refusal.TOO_LARGE, f"{size} bytes, over {self.max_bytes}")

    def keep(self, data: bytes, *, kind: AttachmentKind) -> Path:
        return keep(data, kind=kind, folder=self.folder, max_bytes=self.max_bytes)


def keep(data: bytes, *, kind: AttachmentKind, folder: Path, max_bytes: int) -> Path:
    """Keep a photo or a voice note under ``folder``, named by its content; the path.

    Raises ``AttachmentRefused`` for a file over ``max_bytes``, or one that is not what
    ``kind`` says (a text file sent as a photo, a photo sent as a voice note).
    """
    if len(data) > max_bytes:
        raise AttachmentRefused(Refusal.TOO_LARGE, f"{len(data)} bytes, over {max_bytes}")
    found = detect(data)
    if found is None or found[0] is not kind:
        refusal = Refusal.NOT_A_PHOTO if kind is AttachmentKind.PHOTO else Refusal.NOT_A_VOICE
        what = f"{found[0].value} {found[1]}" if found else f"unknown {data[:8]!r}"
        raise AttachmentRefused(refusal, f"a {what}, not a {kind.value}")
    extension = found[1]
    if kind is AttachmentKind.PHOTO:
        data = without_description(data, extension)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{hashlib.sha256(data).hexdigest()}{extension}"
    if not path.exists():  # the same content is the same file: kept once
        _write(path, data)
    return path


def without_description(data: bytes, extension: str) -> bytes:
    """The photo as it is, or redrawn without what describes it when it has any.

    Only a photo that carries a description is re-encoded, so most are kept byte for byte.
    One that Pillow cannot read is refused: what cannot be read cannot be cleaned.
    """
    try:
        with Image.open(io.BytesIO(data), formats=[PHOTO_FORMATS[extension]]) as image:
            if not describes(image):
                return data
            return _redrawn(image, extension, data)
    except Image.DecompressionBombError as error:  # a few bytes that unpack to gigabytes
        raise AttachmentRefused(Refusal.TOO_LARGE, str(error)) from error
    except UNREADABLE as error:
        raise AttachmentRefused(Refusal.NOT_A_PHOTO, f"unreadable {extension}: {error}") from error


def describes(image: Image.Image) -> list[str]:
    """What in an opened photo describes it (where, when, with what) rather than draws it."""
    if isinstance(image, JpegImagePlugin.JpegImageFile):  # MPO too
        return [
            marker
            for marker, body in image.applist
            if not any(marker == m and body.startswith(p) for m, p in DRAWING_SEGMENTS)
        ]
    if isinstance(image, PngImagePlugin.PngImageFile):
        image.load()  # text and eXIf chunks may come after the picture
        return [key for key in ("exif", "xmp") if image.info.get(key)] + list(image.text)
    if image.format == "WEBP":
        return [key for key in ("exif", "xmp") if image.info.get(key)]
    return []  # GIF: no EXIF in it


def _redrawn(image: Image.Image, extension: str, data: bytes) -> bytes:
    """The first picture, turned upright, saved with only what draws it.

    The EXIF orientation goes with the EXIF, so it is applied to the pixels instead. An
    animation, an MPO's second picture or a motion photo's video are not kept: a report's
    photo is a still, and nothing of a description may slip through in another frame.
    """
    try:
        upright = ImageOps.exif_transpose(image)
    except UNREADABLE:  # a broken orientation tag: keep the picture as it was drawn
        upright = image.copy()
    upright.info = {}  # nothing of the original's description goes along by default
    drawing = {key: image.info[key] for key in ("icc_profile", "dpi") if image.info.get(key)}
    out = io.BytesIO()
    if extension == ".jpg":
        # The original's quantization tables and chroma subsampling: the same quality,
        # not a second lossy generation at some other setting.
        sampling = JpegImagePlugin.get_sampling(image)
        if sampling != -1:
            drawing["subsampling"] = sampling
        quantization = getattr(image, "quantization", None)
        if quantization:
            drawing["qtables"] = quantization
        upright.save(out, "JPEG", progressive=bool(image.info.get("progressive")), **drawing)
    elif extension == ".png":  # lossless: the same pixels
        if "transparency" in image.info:
            drawing["transparency"] = image.info["transparency"]
        upright.save(out, "PNG", **drawing)
    else:
        lossless = _webp_lossless(data)
        upright.save(out, "WEBP", lossless=lossless, quality=100 if lossless else 90, **drawing)
    return out.getvalue()


def _webp_lossless(data: bytes) -> bool:
    """Whether a WebP's picture is lossless (a VP8L chunk), so that it is saved so again."""
    offset = 12
    while offset + 8 <= len(data):
        chunk = data[offset : offset + 4]
        size = int.from_bytes(data[offset + 4 : offset + 8], "little")
        if chunk in (b"VP8 ", b"VP8L"):
            return chunk == b"VP8L"
        offset += 8 + size + (size & 1)
    return False


def _write(path: Path, data: bytes) -> None:
    """Written whole or not at all: another worker may be keeping the same photo, and a
    crash must not leave half a file under a name that promises its content."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    try:
        with temporary.open("xb") as file:
            file.write(data)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
