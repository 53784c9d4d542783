"""Keeping a platform's photo or voice note: named by its content, typed by its bytes, capped
in size, and without the GPS position a phone writes into a photo."""

from __future__ import annotations

import hashlib
import io
import re
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from storage.attachment.files import MB, AttachmentRefused, Refusal, detect, keep
from storage.attachment.models import AttachmentKind
from storage.config import load_settings
from tests.pictures import colour_at, gps_of, jpeg, phone_exif, png, webp

PHOTO, VOICE = AttachmentKind.PHOTO, AttachmentKind.VOICE
KEPT_NAME = re.compile(r"[0-9a-f]{64}\.(jpg|png|webp|gif|amr|silk|ogg|m4a|mp3|aac)")


def gif() -> bytes:
    out = io.BytesIO()
    Image.new("P", (4, 4)).save(out, "GIF")
    return out.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A few hundred bytes that say they unpack to ``width`` × ``height`` pixels."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b""))
        + chunk(b"IEND", b"")
    )


def test_a_file_is_named_by_the_sha256_of_its_content_and_the_same_photo_is_kept_once(
    tmp_path: Path,
) -> None:
    photo = jpeg()
    first = keep(photo, kind=PHOTO, folder=tmp_path / "telegram", max_bytes=MB)
    again = keep(photo, kind=PHOTO, folder=tmp_path / "telegram", max_bytes=MB)
    assert first == again == tmp_path / "telegram" / f"{hashlib.sha256(photo).hexdigest()}.jpg"
    assert first.read_bytes() == photo  # no EXIF: kept byte for byte, not re-encoded
    assert list((tmp_path / "telegram").iterdir()) == [first]  # and nothing half-written


@pytest.mark.parametrize(
    ("data", "kind", "extension"),
    [
        (jpeg(), PHOTO, ".jpg"),
        (png(), PHOTO, ".png"),
        (webp(), PHOTO, ".webp"),
        (gif(), PHOTO, ".gif"),
        (b"#!AMR\n" + bytes(32), VOICE, ".amr"),
        (b"#!AMR-WB\n" + bytes(32), VOICE, ".amr"),
        (b"\x02#!SILK_V3" + bytes(32), VOICE, ".silk"),  # WeChat's voice
        (b"#!SILK_V3" + bytes(32), VOICE, ".silk"),
        (b"OggS\x00\x02" + bytes(32) + b"OpusHead", VOICE, ".ogg"),  # Telegram's voice
        (b"\x00\x00\x00\x20ftypM4A " + bytes(32), VOICE, ".m4a"),  # an iPhone's recording
        (b"ID3\x04\x00" + bytes(32), VOICE, ".mp3"),
        (b"\xff\xfb\x90\x00" + bytes(32), VOICE, ".mp3"),
        (b"\xff\xf1\x50\x80" + bytes(32), VOICE, ".aac"),
    ],
)
def test_the_type_and_the_extension_come_from_the_bytes(
    data: bytes, kind: AttachmentKind, extension: str, tmp_path: Path
) -> None:
    assert detect(data) == (kind, extension)
    kept = keep(data, kind=kind, folder=tmp_path, max_bytes=MB)
    assert kept.suffix == extension


@pytest.mark.parametrize(
    ("data", "kind", "refusal"),
    [
        (b"hello, this is a text file called leak.jpg", PHOTO, Refusal.NOT_A_PHOTO),
        (b"<html><script>alert(1)</script></html>", PHOTO, Refusal.NOT_A_PHOTO),
        (b"\xff\xd8\xff\xe0 a jpeg's first bytes, then text", PHOTO, Refusal.NOT_A_PHOTO),
        (b"GIF89a and then nothing a GIF is made of", PHOTO, Refusal.NOT_A_PHOTO),
        (b"#!AMR\n" + bytes(32), PHOTO, Refusal.NOT_A_PHOTO),  # a voice note is no photo
        (jpeg(), VOICE, Refusal.NOT_A_VOICE),  # nor a photo a voice note
        (b"plain text sent as a voice note", VOICE, Refusal.NOT_A_VOICE),
        (b"", VOICE, Refusal.NOT_A_VOICE),
    ],
)
def test_what_is_not_what_it_was_sent_as_is_refused_and_nothing_is_kept(
    data: bytes, kind: AttachmentKind, refusal: Refusal, tmp_path: Path
) -> None:
    with pytest.raises(AttachmentRefused) as refused:
        keep(data, kind=kind, folder=tmp_path / "wechat", max_bytes=MB)
    assert refused.value.reason is refusal
    assert not (tmp_path / "wechat").exists()


def test_over_the_cap_is_refused_and_up_to_it_is_kept(tmp_path: Path) -> None:
    voice = b"#!AMR\n" + bytes(MB - 6)
    assert keep(voice, kind=VOICE, folder=tmp_path, max_bytes=MB).stat().st_size == MB
    with pytest.raises(AttachmentRefused) as refused:
        keep(voice + b"\x00", kind=VOICE, folder=tmp_path, max_bytes=MB)
    assert refused.value.reason is Refusal.TOO_LARGE
    assert len(list(tmp_path.iterdir())) == 1


def test_a_small_photo_that_unpacks_to_billions_of_pixels_is_refused_as_too_large(
    tmp_path: Path,
) -> None:
    bomb = png_claiming(50_000, 50_000)
    assert len(bomb) < 100
    with pytest.raises(AttachmentRefused) as refused:
        keep(bomb, kind=PHOTO, folder=tmp_path, max_bytes=MB)
    assert refused.value.reason is Refusal.TOO_LARGE


@pytest.mark.parametrize("make", [jpeg, png, webp], ids=["jpeg", "png", "webp"])
def test_a_photo_loses_its_gps_position_and_the_rest_of_its_exif(
    make: Callable[[Image.Exif | None], bytes], tmp_path: Path
) -> None:
    photo = make(phone_exif())
    assert gps_of(photo) != {}  # the phone did write where the owner lives
    kept = keep(photo, kind=PHOTO, folder=tmp_path, max_bytes=MB)
    stored = kept.read_bytes()
    assert gps_of(stored) == {}
    assert b"Exif" not in stored
    assert b"Xiaomi" not in stored  # the phone's make and model go too
    assert kept.name == f"{hashlib.sha256(stored).hexdigest()}{kept.suffix}"  # what is kept
    with Image.open(kept) as image:  # still the photo it was
        assert image.size == (8, 4)
        assert colour_at(image, 0, 0) == "red"  # on the left
        assert colour_at(image, 7, 0) == "blue"  # on the right


def test_a_lossless_webp_stays_lossless_and_a_png_keeps_its_exact_pixels(tmp_path: Path) -> None:
    for photo in (webp(phone_exif(), lossless=True), png(phone_exif())):
        kept = keep(photo, kind=PHOTO, folder=tmp_path, max_bytes=MB)
        with Image.open(io.BytesIO(photo)) as before, Image.open(kept) as after:
            assert gps_of(kept.read_bytes()) == {}
            assert before.convert("RGB").tobytes() == after.convert("RGB").tobytes()


def test_the_orientation_the_exif_gave_is_applied_to_the_pixels(tmp_path: Path) -> None:
    # Orientation 6: the camera was held upright; shown turned 90° clockwise.
    photo = jpeg(phone_exif(orientation=6))
    kept = keep(photo, kind=PHOTO, folder=tmp_path, max_bytes=MB)
    with Image.open(kept) as image:
        assert image.size == (4, 8)
        assert image.getexif() == {}
        assert colour_at(image, 0, 0) == "red"  # the left half is now on top
        assert colour_at(image, 0, 7) == "blue"  # and the right half below


def test_a_jpeg_comment_and_xmp_are_taken_out_too(tmp_path: Path) -> None:
    out = io.BytesIO()
    Image.new("RGB", (8, 4), "white").save(
        out, "JPEG", comment=b"Room 502, Zhang Wei", xmp=b"<x:xmpmeta>31.23,121.47</x:xmpmeta>"
    )
    assert b"Zhang Wei" in out.getvalue()
    assert b"xmpmeta" in out.getvalue()
    kept = keep(out.getvalue(), kind=PHOTO, folder=tmp_path, max_bytes=MB).read_bytes()
    assert b"Zhang Wei" not in kept
    assert b"xmpmeta" not in kept


def test_no_name_from_a_platform_can_place_a_file_outside_its_folder(tmp_path: Path) -> None:
    """``keep`` takes no name at all: whatever a platform called the file, it lands in the
    folder given, named by hex digits and one of a fixed set of extensions."""
    folder = tmp_path / "attachments" / "telegram"
    for data, kind in ((jpeg(), PHOTO), (jpeg(phone_exif()), PHOTO), (b"OggS" + bytes(9), VOICE)):
        kept = keep(data, kind=kind, folder=folder, max_bytes=MB)
        assert kept.parent == folder
        assert kept.resolve().is_relative_to(folder.resolve())
        assert KEPT_NAME.fullmatch(kept.name), kept.name
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == sorted(
        p.name for p in folder.iterdir()
    )


def test_the_cap_is_a_setting_of_20_mb(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().attachment_max_mb == 20
    monkeypatch.setenv("WUYE_ATTACHMENT_MAX_MB", "5")
    assert load_settings().attachment_max_mb == 5
