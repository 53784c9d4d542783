"""Real photo files for the tests, made with Pillow: small, and with the EXIF a phone writes."""

from __future__ import annotations

import io

from PIL import ExifTags, Image

# Where the phone was: 翠湖苑, Shanghai.
LATITUDE = (31.0, 13.0, 50.12)
LONGITUDE = (121.0, 28.0, 25.3)


def phone_exif(*, gps: bool = True, orientation: int | None = None) -> Image.Exif:
    """EXIF as a phone writes it: its make and model, and where the photo was taken."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Xiaomi"
    exif[ExifTags.Base.Model] = "Redmi Note 12"
    if orientation is not None:
        exif[ExifTags.Base.Orientation] = orientation
    if gps:
        where = exif.get_ifd(ExifTags.IFD.GPSInfo)
        where[ExifTags.GPS.GPSLatitudeRef] = "N"
        where[ExifTags.GPS.GPSLatitude] = LATITUDE
        where[ExifTags.GPS.GPSLongitudeRef] = "E"
        where[ExifTags.GPS.GPSLongitude] = LONGITUDE
    return exif


def picture(size: tuple[int, int] = (8, 4)) -> Image.Image:
    """A picture whose left half is red and right half blue, so a turn can be seen."""
    image = Image.new("RGB", size, (200, 30, 30))
    image.paste((30, 30, 200), (size[0] // 2, 0, size[0], size[1]))
    return image


def colour_at(image: Image.Image, x: int, y: int) -> str:
    """ "red" or "blue" (what ``picture`` paints), as near as a lossy photo keeps it."""
    pixel = image.convert("RGB").getpixel((x, y))
    assert isinstance(pixel, tuple)
    red, _green, blue = pixel
    return "red" if red > blue else "blue"


def jpeg(exif: Image.Exif | None = None, size: tuple[int, int] = (8, 4)) -> bytes:
    out = io.BytesIO()
    extra = {"exif": exif.tobytes()} if exif is not None else {}
    picture(size).save(out, "JPEG", quality=90, **extra)
    return out.getvalue()


def png(exif: Image.Exif | None = None) -> bytes:
    out = io.BytesIO()
    extra = {"exif": exif.tobytes()} if exif is not None else {}
    picture().save(out, "PNG", **extra)
    return out.getvalue()


def webp(exif: Image.Exif | None = None, *, lossless: bool = False) -> bytes:
    out = io.BytesIO()
    extra = {"exif": exif.tobytes()} if exif is not None else {}
    picture().save(out, "WEBP", lossless=lossless, **extra)
    return out.getvalue()


def gps_of(data: bytes) -> dict[int, object]:
    """The GPS position a photo file tells, {} when none."""
    with Image.open(io.BytesIO(data)) as image:
        return dict(image.getexif().get_ifd(ExifTags.IFD.GPSInfo))
