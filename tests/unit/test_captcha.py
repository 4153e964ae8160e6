import io
import math
import random
import subprocess
import sys
import wave
from array import array
from pathlib import Path

import pytest
from PIL import Image

from chalicelib.adapters import captcha
from chalicelib.adapters.captcha import (
    CODE_DIGITS,
    IMAGE_HEIGHT,
    IMAGE_WIDTH,
    SAMPLE_RATE,
    VOICES_DIR,
    generate_code,
    render_audio,
    render_image,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
FRAME = SAMPLE_RATE // 50  # 20 ms
SPEECH_RMS = 800  # well above the noise (about 115), below every spoken digit


def _samples(wav: bytes):
    with wave.open(io.BytesIO(wav), "rb") as reader:
        params = reader.getparams()
        samples = array("h", reader.readframes(reader.getnframes()))
    if sys.byteorder == "big":
        samples.byteswap()
    return params, samples


def _rms(samples) -> float:
    return math.sqrt(sum(sample * sample for sample in samples) / max(1, len(samples)))


def _bursts(samples: array, min_gap_seconds: float = 0.25) -> list[tuple[float, float]]:
    """Stretches of speech, as (start, end) in seconds, split by pauses of at least the gap."""
    loud = [_rms(samples[i : i + FRAME]) > SPEECH_RMS for i in range(0, len(samples), FRAME)]
    bursts: list[list[int]] = []
    for index, is_loud in enumerate(loud):
        if not is_loud:
            continue
        if bursts and index - bursts[-1][1] <= min_gap_seconds * 50:
            bursts[-1][1] = index
        else:
            bursts.append([index, index])
    return [(start / 50, (end + 1) / 50) for start, end in bursts]


def test_codes_are_6_digits_without_the_ambiguous_one():
    codes = {generate_code() for _ in range(500)}
    assert len(codes) > 490
    for code in codes:
        assert len(code) == 6 and set(code) <= set(CODE_DIGITS)
    assert "1" not in CODE_DIGITS
    assert set("".join(codes)) == set(CODE_DIGITS)


def test_the_image_is_a_png_of_the_phone_size():
    png = render_image("402839")
    assert png.startswith(PNG_SIGNATURE)
    with Image.open(io.BytesIO(png)) as image:
        image.load()
        assert image.format == "PNG"
        assert image.size == (IMAGE_WIDTH, IMAGE_HEIGHT) == (240, 80)


def test_the_text_of_the_image_is_dark_and_opaque():
    with Image.open(io.BytesIO(render_image("888888"))) as image:
        darkest, _ = image.convert("L").getextrema()
    # The package's own mask would paste the dark blue at about 13 % opacity (level above 200).
    assert darkest < 60


def test_importing_the_adapter_loads_neither_pillow_nor_the_captcha_package():
    code = (
        "import sys, chalicelib.adapters.captcha, chalicelib.adapters.hashing;"
        "loaded = [m for m in sys.modules if m.split('.')[0] in {'PIL', 'captcha', 'argon2'}];"
        "print(loaded); sys.exit(1 if loaded else 0)"
    )
    project_root = Path(captcha.__file__).parents[2]
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=project_root
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("digit", "0123456789")
def test_each_voice_is_a_short_non_silent_mono_8khz_recording(digit):
    with open(VOICES_DIR / digit / "1.wav", "rb") as recording:
        params, samples = _samples(recording.read())
    assert (params.nchannels, params.sampwidth, params.framerate) == (1, 2, SAMPLE_RATE)
    assert 0.3 <= params.nframes / SAMPLE_RATE <= 1.0
    assert _rms(samples) > 2000
    assert len(_bursts(samples)) == 1


def test_the_audio_is_a_wav_with_one_stretch_of_speech_per_digit():
    params, samples = _samples(render_audio("405927", random.Random(1)))
    assert (params.nchannels, params.sampwidth, params.framerate) == (1, 2, SAMPLE_RATE)
    duration = params.nframes / SAMPLE_RATE
    # 6 digits of 0.3-1 s, 5 pauses of 0.5-0.8 s, 0.8 s of silence around them.
    assert 6 * 0.3 + 5 * 0.5 + 0.8 <= duration <= 6 * 1.0 + 5 * 0.8 + 0.8
    bursts = _bursts(samples)
    assert len(bursts) == 6
    for start, end in bursts:
        assert 0.2 <= end - start <= 1.0
    assert bursts[0][0] >= 0.4


def test_the_silences_carry_only_a_faint_noise():
    _, samples = _samples(render_audio("000000", random.Random(2)))
    leading = samples[: int(0.4 * SAMPLE_RATE)]
    assert 0 < _rms(leading) < 200
    assert max(abs(sample) for sample in samples) < 32767


def test_the_audio_is_reproducible_with_a_seed_and_varies_without():
    assert render_audio("123456", random.Random(5)) == render_audio("123456", random.Random(5))
    assert render_audio("123456") != render_audio("123456")


@pytest.mark.parametrize("code", ["12a456", "١٢٣", "12 456"])
def test_only_digits_can_be_spoken(code):
    with pytest.raises(ValueError):
        render_audio(code)


def test_the_voices_are_read_once():
    captcha._voice.cache_clear()
    render_audio("121212", random.Random(3))
    assert captcha._voice.cache_info().currsize == 2
