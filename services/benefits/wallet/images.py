"""The Apple pass's icon and logo: the fund's code in a 5x7 bitmap font, written as PNG
by hand (no imaging library for four small pictures)."""

from __future__ import annotations

import functools
import struct
import unicodedata
import zlib

from services.benefits.wallet.card import BACKGROUND, FOREGROUND

_GLYPHS = {
    "A": "01110 10001 10001 11111 10001 10001 10001",
    "B": "11110 10001 10001 11110 10001 10001 11110",
    "C": "01110 10001 10000 10000 10000 10001 01110",
    "D": "11110 10001 10001 10001 10001 10001 11110",
    "E": "11111 10000 10000 11110 10000 10000 11111",
    "F": "11111 10000 10000 11110 10000 10000 10000",
    "G": "01110 10001 10000 10111 10001 10001 01111",
    "H": "10001 10001 10001 11111 10001 10001 10001",
    "I": "01110 00100 00100 00100 00100 00100 01110",
    "J": "00111 00010 00010 00010 00010 10010 01100",
    "K": "10001 10010 10100 11000 10100 10010 10001",
    "L": "10000 10000 10000 10000 10000 10000 11111",
    "M": "10001 11011 10101 10101 10001 10001 10001",
    "N": "10001 10001 11001 10101 10011 10001 10001",
    "O": "01110 10001 10001 10001 10001 10001 01110",
    "P": "11110 10001 10001 11110 10000 10000 10000",
    "Q": "01110 10001 10001 10001 10101 10010 01101",
    "R": "11110 10001 10001 11110 10100 10010 10001",
    "S": "01111 10000 10000 01110 00001 00001 11110",
    "T": "11111 00100 00100 00100 00100 00100 00100",
    "U": "10001 10001 10001 10001 10001 10001 01110",
    "V": "10001 10001 10001 10001 10001 01010 00100",
    "W": "10001 10001 10001 10101 10101 10101 01010",
    "X": "10001 10001 01010 00100 01010 10001 10001",
    "Y": "10001 10001 01010 00100 00100 00100 00100",
    "Z": "11111 00001 00010 00100 01000 10000 11111",
    "0": "01110 10001 10011 10101 11001 10001 01110",
    "1": "00100 01100 00100 00100 00100 00100 01110",
    "2": "01110 10001 00001 00010 00100 01000 11111",
    "3": "11111 00010 00100 00010 00001 10001 01110",
    "4": "00010 00110 01010 10010 11111 00010 00010",
    "5": "11111 10000 11110 00001 00001 10001 01110",
    "6": "00110 01000 10000 11110 10001 10001 01110",
    "7": "11111 00001 00010 00100 01000 01000 01000",
    "8": "01110 10001 10001 01110 10001 10001 01110",
    "9": "01110 10001 10001 01111 00001 00010 01100",
}
_GLYPH_W, _GLYPH_H = 5, 7


def _fund_code(fund: str) -> str:
    """The fund's code in the font's characters ("Camti" -> "CAMTI")."""
    ascii_text = unicodedata.normalize("NFKD", fund).encode("ascii", "ignore").decode()
    return "".join(c for c in ascii_text.upper() if c in _GLYPHS)


def _text_width(text: str) -> int:
    return len(text) * (_GLYPH_W + 1) - 1 if text else 0


def _fit(text: str, width: int, height: int, max_scale: int) -> tuple[str, int]:
    """The longest prefix of text and the largest scale that fit in width x height."""
    while text and _text_width(text) > width:
        text = text[:-1]
    if not text:
        return "", 0
    scale = min(max_scale, width // _text_width(text), height // _GLYPH_H)
    return text, max(scale, 1)


def _png(width: int, height: int, pixels: bytearray) -> bytes:
    """An 8-bit RGBA PNG from width*height*4 bytes."""
    stride = width * 4
    raw = b"".join(b"\x00" + bytes(pixels[y * stride:(y + 1) * stride]) for y in range(height))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9))
            + chunk(b"IEND", b""))


def _label_image(text: str, width: int, height: int, density: int, scale: int,
                 background: tuple[int, int, int] | None, centre: bool) -> bytes:
    """text drawn at scale (in points) on a width x height point image, density px/pt."""
    w, h = width * density, height * density
    fill = bytes((*background, 255)) if background else bytes(4)
    pixels = bytearray(fill * (w * h))
    px = scale * density
    text_w, text_h = _text_width(text) * px, _GLYPH_H * px
    x0 = (w - text_w) // 2 if centre else 0
    y0 = (h - text_h) // 2
    ink = bytes((*FOREGROUND, 255))
    for index, char in enumerate(text):
        rows = _GLYPHS[char].split()
        for gy, row in enumerate(rows):
            for gx, bit in enumerate(row):
                if bit != "1":
                    continue
                left = x0 + (index * (_GLYPH_W + 1) + gx) * px
                for y in range(y0 + gy * px, y0 + (gy + 1) * px):
                    start = (y * w + left) * 4
                    pixels[start:start + px * 4] = ink * px
    return _png(w, h, pixels)


@functools.lru_cache(maxsize=16)
def pass_images(fund: str) -> dict[str, bytes]:
    """icon (29 pt square, the fund's code on the card's red) and logo (the code in white
    on transparent, 50 pt high), at 1x and 2x."""
    code = _fund_code(fund)
    icon_text, icon_scale = _fit(code, 29 - 4, 29 - 4, 2)
    logo_text, logo_scale = _fit(code, 160, 30, 4)
    logo_width = max(_text_width(logo_text) * logo_scale, 1)
    images = {}
    for density, suffix in ((1, ""), (2, "@2x")):
        images[f"icon{suffix}.png"] = _label_image(icon_text, 29, 29, density, icon_scale,
                                                   BACKGROUND, centre=True)
        images[f"logo{suffix}.png"] = _label_image(logo_text, logo_width, 50, density,
                                                   logo_scale, None, centre=False)
    return images
