"""The signup captcha ("Recopiez le code"): a code, its image and its spoken French version.

The audio is the non-visual alternative that RGAA 1.4/1.5 require. It is not made with
`captcha.audio.AudioCaptcha`: that class buries the voice under reversed speech of other digits
and pauses 1 to 3 s between them, which is hard on the very people the alternative serves. Here
the digits come one by one with short pauses and a faint noise, so no two renderings of a code
are the same bytes. The voices are recordings made once with espeak-ng (captcha_voices/README.md).

Pillow and the captcha package are imported on first use (docs/specs/architecture.md, D8).
"""

from __future__ import annotations

import io
import random
import secrets
import sys
import wave
from array import array
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from captcha.image import ImageCaptcha

CODE_LENGTH = 6
# No "1": the package stretches every glyph to the width of the font's advance, and a stretched,
# tilted "1" reads as a "7". Nine digits still leave half a million codes for 3 tries.
CODE_DIGITS = "023456789"

IMAGE_WIDTH = 240
IMAGE_HEIGHT = 80
# DSFR "bleu France" on a light grey: strong contrast, so the code stays readable for people
# with low vision; the distortion below is milder than the package's defaults for the same reason.
TEXT_COLOUR = (0, 0, 145, 255)
BACKGROUND_COLOUR = (246, 246, 246)

VOICES_DIR = Path(__file__).parent / "captcha_voices" / "fr"
SAMPLE_RATE = 8000
SAMPLE_WIDTH = 2
LEADING_SILENCE_SECONDS = 0.5
TRAILING_SILENCE_SECONDS = 0.3
PAUSE_SECONDS = (0.5, 0.8)
DIGIT_GAIN = (0.85, 1.0)
# About -44 dBFS: audible as a faint hiss under a voice peaking at -3 dBFS.
NOISE_AMPLITUDE = 200
MAX_SAMPLE = 32767


def generate_code() -> str:
    return "".join(secrets.choice(CODE_DIGITS) for _ in range(CODE_LENGTH))


def render_image(code: str) -> bytes:
    """The code as a PNG of 240×80 pixels, a size that fits a phone screen."""
    image = _image_captcha().generate_image(code, bg_color=BACKGROUND_COLOUR, fg_color=TEXT_COLOUR)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@cache
def _image_captcha() -> ImageCaptcha:
    # The subclass is built here because its base class may only be imported on first use.
    from captcha.image import ImageCaptcha

    class LegibleImageCaptcha(ImageCaptcha):
        character_rotate = (-10, 10)
        character_warp_dx = (0.05, 0.15)
        character_warp_dy = (0.05, 0.15)
        # 1.0 means never: extra gaps between digits would make the text wider than the image,
        # which the package then squeezes horizontally.
        word_space_probability = 1.0
        # Less overlap between neighbouring digits than the package's 0.25.
        word_offset_dx = 0.05

    image_captcha = LegibleImageCaptcha(
        width=IMAGE_WIDTH, height=IMAGE_HEIGHT, font_sizes=(50, 54, 58)
    )
    # The package pastes each digit through a mask taken from the digit's own luminance, which
    # suits light colours only: scaled so that a dark text colour is fully opaque.
    scale = 255 / _luminance(TEXT_COLOUR)
    image_captcha.lookup_table = [min(255, round(level * scale)) for level in range(256)]
    return image_captcha


def _luminance(colour: tuple[int, ...]) -> int:
    """The grey level Pillow gives a colour when converting to "L" (ITU-R 601-2)."""
    red, green, blue = colour[:3]
    return max(1, (red * 299 + green * 587 + blue * 114) // 1000)


def render_audio(code: str, rng: random.Random | None = None) -> bytes:
    """The code spoken in French, digit by digit: a mono 16-bit 8 kHz WAV.

    `rng` makes pauses, loudness and noise reproducible in tests; by default they come from the
    system's random source.
    """
    if not code.isascii() or not code.isdigit():
        raise ValueError("a captcha code is made of ASCII digits only")
    draw = rng or secrets.SystemRandom()
    samples = array("h", _silence(LEADING_SILENCE_SECONDS))
    for position, digit in enumerate(code):
        if position:
            samples.extend(_silence(draw.uniform(*PAUSE_SECONDS)))
        gain = draw.uniform(*DIGIT_GAIN)
        samples.extend(int(sample * gain) for sample in _voice(digit))
    samples.extend(_silence(TRAILING_SILENCE_SECONDS))
    # The noise needs no cryptographic quality, and a seeded generator is much faster than one
    # system call per sample.
    noise = random.Random(draw.getrandbits(64))
    noisy = array(
        "h",
        (
            max(
                -MAX_SAMPLE,
                min(MAX_SAMPLE, sample + noise.randint(-NOISE_AMPLITUDE, NOISE_AMPLITUDE)),
            )
            for sample in samples
        ),
    )
    if sys.byteorder == "big":
        noisy.byteswap()  # WAV samples are little-endian
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as output:
        output.setnchannels(1)
        output.setsampwidth(SAMPLE_WIDTH)
        output.setframerate(SAMPLE_RATE)
        output.writeframes(noisy.tobytes())
    return buffer.getvalue()


def _silence(seconds: float) -> array[int]:
    return array("h", bytes(SAMPLE_WIDTH * round(seconds * SAMPLE_RATE)))


@cache
def _voice(digit: str) -> array[int]:
    """The samples of one spoken digit, read once per Lambda container."""
    with wave.open(str(VOICES_DIR / digit / "1.wav"), "rb") as recording:
        if (
            recording.getnchannels() != 1
            or recording.getsampwidth() != SAMPLE_WIDTH
            or recording.getframerate() != SAMPLE_RATE
        ):
            raise ValueError(f"captcha voice {digit}: expected mono 16-bit {SAMPLE_RATE} Hz")
        samples = array("h", recording.readframes(recording.getnframes()))
    if sys.byteorder == "big":
        samples.byteswap()
    return samples
