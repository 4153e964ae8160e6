"""`make screenshots-compare`: do the pages still look the same? The README's screenshots
(local/screenshots.py) rendered from the current tree, compared pixel by pixel with the same
screenshots rendered from an earlier commit, or with the committed docs/screenshots/*.png.

    python -m local.screenshots_compare                    # against REFERENCE_REF (below)
    python -m local.screenshots_compare --ref main~3       # against any commit
    python -m local.screenshots_compare --committed        # against docs/screenshots/ at HEAD

Prints, per screenshot, the share of its pixels that differ, and exits with 1 when one of them
is above the threshold (or is missing on one side). The reference commit is exported with `git
archive` into a scratch folder (no checkout: the worktree is left alone), its DSFR assets built
there by its own local/build_assets.py from this tree's node_modules, and its screenshots taken
by its own local/screenshots.py, on its own local stack. Each side runs a stack and Chromium:
run it alone on a shared machine. Images of the differences (changed pixels in red over the
current screenshot, faded) are written beside the screenshots, in the scratch folder printed.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageChops

from local.background import PROJECT_DIR

# The commit before issue 16's asset work (« Ship only what the pages use »: `git log --oneline
# -- local/build_assets.py`, then the parent of 73e00f8): the whole DSFR bundle and fonts.
REFERENCE_REF = "a7b17737f53fc6f94ba7f785bc833b215658dd0b"
COMMITTED_DIR = PROJECT_DIR / "docs" / "screenshots"
# A pixel differs when one of its channels moves by more than this (out of 255): font
# rasterising jitters anti-aliased edges by a few levels between two runs of the same page.
DEFAULT_TOLERANCE = 8
# Share of a screenshot's pixels that may differ: above it, the page changed.
DEFAULT_THRESHOLD = 0.005


@dataclass(frozen=True)
class Comparison:
    name: str
    differing: float | None  # share of pixels, 0 to 1; None when one side is missing
    note: str = ""

    def within(self, threshold: float) -> bool:
        return self.differing is not None and self.differing <= threshold

    def line(self, threshold: float) -> str:
        if self.differing is None:
            return f"  {self.name:32} absente  {self.note}"
        verdict = "OK" if self.within(threshold) else "DIFFÉRENTE"
        share = f"{self.differing * 100:.2f} %".replace(".", ",")
        return f"  {self.name:32} {share:>9}  {verdict}{'  ' + self.note if self.note else ''}"


def differing_mask(current: Image.Image, reference: Image.Image, tolerance: int) -> Image.Image:
    """A black-and-white mask over the larger of the two sizes: white where the pixels differ by
    more than `tolerance` on some channel, and wherever only one of the images has pixels."""
    mask = Image.new(
        "L", (max(current.width, reference.width), max(current.height, reference.height)), 255
    )
    common = (0, 0, min(current.width, reference.width), min(current.height, reference.height))
    channels = ImageChops.difference(
        current.convert("RGB").crop(common), reference.convert("RGB").crop(common)
    ).split()
    largest = channels[0]
    for channel in channels[1:]:
        largest = ImageChops.lighter(largest, channel)
    mask.paste(largest.point(lambda level: 255 if level > tolerance else 0), common[:2])
    return mask


def differing_share(mask: Image.Image) -> float:
    return mask.histogram()[255] / (mask.width * mask.height)


def highlight(current: Image.Image, mask: Image.Image) -> Image.Image:
    """The current screenshot faded, with the differing pixels in red."""
    base = Image.new("RGB", mask.size, "white")
    base.paste(current.convert("RGB"))
    faded = Image.blend(base, Image.new("RGB", mask.size, "white"), 0.7)
    faded.paste(Image.new("RGB", mask.size, (230, 0, 0)), mask=mask)
    return faded


def compare(
    current_dir: Path, reference_dir: Path, tolerance: int, diff_dir: Path | None = None
) -> list[Comparison]:
    names = sorted(
        {p.name for p in current_dir.glob("*.png")} | {p.name for p in reference_dir.glob("*.png")}
    )
    results: list[Comparison] = []
    for name in names:
        current_path, reference_path = current_dir / name, reference_dir / name
        if not current_path.exists() or not reference_path.exists():
            side = "de la référence" if current_path.exists() else "de l’arbre courant"
            results.append(Comparison(name, None, f"(absente {side})"))
            continue
        with Image.open(current_path) as current, Image.open(reference_path) as reference:
            mask = differing_mask(current, reference, tolerance)
            note = ""
            if current.size != reference.size:
                size, was = current.size, reference.size
                note = f"(taille {size[0]}×{size[1]} au lieu de {was[0]}×{was[1]})"
            if diff_dir is not None:
                diff_dir.mkdir(parents=True, exist_ok=True)
                highlight(current, mask).save(diff_dir / name)
        results.append(Comparison(name, differing_share(mask), note))
    return results


def _run(command: list[str], cwd: Path) -> None:
    print(f"$ {' '.join(command)}  (dans {cwd})", flush=True)
    subprocess.run(command, cwd=cwd, check=True)


def render(tree: Path, output: Path) -> None:
    """The screenshots of `tree` (a project folder with built assets) into `output`."""
    _run([sys.executable, "-m", "local.screenshots", "--output", str(output)], tree)


def export(ref: str, target: Path) -> None:
    """The files of `ref` into `target` (git archive: no checkout), with this tree's node_modules
    (the DSFR and fonts are pinned in package.json) and its own assets built from them."""
    target.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "archive", "--format=tar", ref], cwd=PROJECT_DIR, capture_output=True, check=True
    )
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    (target / "node_modules").symlink_to((PROJECT_DIR / "node_modules").resolve())
    _run([sys.executable, "-m", "local.build_assets"], target)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Les pages ont-elles changé d’aspect ?")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--ref", default=REFERENCE_REF, help="commit de référence")
    source.add_argument(
        "--committed", action="store_true", help="comparer avec docs/screenshots/ (commités)"
    )
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    parser.add_argument("--tolerance", type=int, default=DEFAULT_TOLERANCE)
    args = parser.parse_args(argv)

    scratch = Path(tempfile.mkdtemp(prefix="portail-comparaison-"))
    current_dir, reference_dir = scratch / "courant", scratch / "reference"
    if args.committed:
        reference_dir.mkdir()
        for path in COMMITTED_DIR.glob("*.png"):
            shown = subprocess.run(
                ["git", "show", f"HEAD:{path.relative_to(PROJECT_DIR)}"],
                cwd=PROJECT_DIR,
                capture_output=True,
                check=True,
            )
            (reference_dir / path.name).write_bytes(shown.stdout)
        label = "docs/screenshots/ (HEAD)"
    else:
        tree = scratch / "arbre"
        export(args.ref, tree)
        try:
            render(tree, reference_dir)
        finally:
            shutil.rmtree(tree)  # a copy of the repository: only its screenshots are kept
        label = args.ref
    render(PROJECT_DIR, current_dir)

    results = compare(current_dir, reference_dir, args.tolerance, scratch / "differences")
    threshold = f"{args.threshold * 100:.2f} %".replace(".", ",")
    print(
        f"\nPixels différents (tolérance {args.tolerance}/255 par canal, seuil {threshold}), "
        f"arbre courant contre {label} :"
    )
    for result in results:
        print(result.line(args.threshold))
    print(f"Captures et différences (en rouge) : {scratch}")
    failed = [result.name for result in results if not result.within(args.threshold)]
    if failed:
        print(f"{len(failed)} capture(s) au-delà du seuil : {', '.join(failed)}")
        return 1
    print("Toutes les captures sont identiques au seuil près.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
