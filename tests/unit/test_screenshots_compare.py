"""The pixel comparison of `make screenshots-compare` (local/screenshots_compare.py)."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from local.screenshots_compare import Comparison, compare, differing_mask, differing_share


def _image(size: tuple[int, int], colour: tuple[int, int, int] = (255, 255, 255)) -> Image.Image:
    return Image.new("RGB", size, colour)


def test_identical_images_differ_nowhere() -> None:
    assert differing_share(differing_mask(_image((20, 10)), _image((20, 10)), 8)) == 0


def test_the_share_counts_pixels_changed_beyond_the_tolerance_only() -> None:
    current, reference = _image((10, 10)), _image((10, 10))
    for x in range(10):
        current.putpixel((x, 0), (0, 0, 0))  # a black line: 10 pixels of 100
    current.putpixel((5, 5), (250, 255, 255))  # 5 levels: anti-aliasing jitter, not a change
    assert differing_share(differing_mask(current, reference, 8)) == 0.10


def test_a_size_change_counts_the_pixels_only_one_side_has() -> None:
    # Same content, 10 rows taller: those 10 × 10 pixels of the 10 × 20 area differ.
    assert differing_share(differing_mask(_image((10, 20)), _image((10, 10)), 8)) == 0.5


def test_compare_reports_each_screenshot_and_the_missing_ones(tmp_path: Path) -> None:
    current_dir, reference_dir = tmp_path / "current", tmp_path / "reference"
    current_dir.mkdir()
    reference_dir.mkdir()
    _image((4, 4)).save(current_dir / "same.png")
    _image((4, 4)).save(reference_dir / "same.png")
    _image((4, 4), (0, 0, 0)).save(current_dir / "changed.png")
    _image((4, 4)).save(reference_dir / "changed.png")
    _image((4, 4)).save(reference_dir / "gone.png")

    results = {r.name: r for r in compare(current_dir, reference_dir, 8, tmp_path / "diff")}

    assert results["same.png"].differing == 0 and results["same.png"].within(0.005)
    assert results["changed.png"].differing == 1 and not results["changed.png"].within(0.005)
    assert results["gone.png"] == Comparison("gone.png", None, "(absente de l’arbre courant)")
    assert not results["gone.png"].within(0.005)
    with Image.open(tmp_path / "diff" / "changed.png") as highlighted:
        assert highlighted.getpixel((0, 0)) == (230, 0, 0)  # changed pixels in red
