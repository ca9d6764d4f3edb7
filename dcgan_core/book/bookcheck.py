"""Checks of the built book (_build/html) that a reader would otherwise find: a path of the machine that built it,
a raw parameter dump, an image that does not resolve, a chapter figure narrower than the text column, a script or
stylesheet fetched from the network (the book renders offline; it has no math, so no MathJax is loaded)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from PIL import Image

MIN_FIGURE_PX = 640  # the theme's text column is ~700 px wide: a narrower figure shows samples too small to read
ABSOLUTE_PATH = re.compile(r"(?<![\w:/.-])/(?:home|root|tmp|Users|work|mnt|var/folders)/[\w.+-]+")
PARAMETER_DUMP = re.compile(r"# Parameters\b|\{'profile':|\"profile\": \"")


class _Resources(HTMLParser):
    """Images a page shows, and scripts or stylesheets it would fetch from the network."""

    def __init__(self) -> None:
        super().__init__()
        self.srcs: list[str] = []
        self.remote: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        if tag == "img" and a.get("src"):
            self.srcs.append(a["src"])
        url = a.get("src") if tag == "script" else a.get("href") if tag == "link" and a.get("rel") == "stylesheet" \
            else None
        if url and url.startswith(("http://", "https://", "//")):
            self.remote.append(url)


def _text(html: str) -> str:
    """The page without scripts, styles and tags: what a reader sees."""
    html = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", html)
    return re.sub(r"(?s)<[^>]+>", " ", html)


def check_page(page: Path, root: Path) -> list[str]:
    """Problems on one HTML page of the built book rooted at `root`."""
    html = page.read_text(errors="replace")
    name = page.relative_to(root)
    problems = [f"{name}: absolute path {m.group(0)!r}" for m in ABSOLUTE_PATH.finditer(_text(html))]
    problems += [f"{name}: raw parameter dump ({m.group(0)!r})" for m in PARAMETER_DUMP.finditer(_text(html))]
    parser = _Resources()
    parser.feed(html)
    problems += [f"{name}: loads {url} from the network (the book must render offline)" for url in parser.remote]
    for src in parser.srcs:
        if src.startswith(("data:", "http://", "https://")):
            continue
        target = (page.parent / src.split("#")[0].split("?")[0]).resolve()
        if not target.is_file():
            problems.append(f"{name}: image {src} does not resolve")
        elif "chapters" in page.parts and target.suffix.lower() == ".png":
            with Image.open(target) as im:
                if im.width < MIN_FIGURE_PX:
                    problems.append(f"{name}: figure {src} is {im.width} px wide, narrower than the text column "
                                    f"({MIN_FIGURE_PX} px)")
    return problems


def check_book(html_dir: str | Path) -> list[str]:
    """Every problem on every page of the built book."""
    root = Path(html_dir)
    if not (root / "index.html").is_file():
        raise FileNotFoundError(f"{root} holds no built book (index.html); run `make reproduce` or `make book`")
    return [p for page in sorted(root.rglob("*.html")) if "_static" not in page.parts
            for p in check_page(page, root)]
