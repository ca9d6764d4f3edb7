import numpy as np
import pytest
from PIL import Image

from dcgan_core.book.bookcheck import MIN_FIGURE_PX, check_book


def _png(path, width):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.zeros((10, width, 3), np.uint8)).save(path)


def test_check_book_finds_each_kind_of_problem(tmp_path):
    (tmp_path / "index.html").write_text("<html><body>DCGAN</body></html>")
    chapters = tmp_path / "book" / "chapters"
    chapters.mkdir(parents=True)
    _png(tmp_path / "_images" / "wide.png", MIN_FIGURE_PX)
    _png(tmp_path / "_images" / "narrow.png", MIN_FIGURE_PX - 1)
    (chapters / "good.html").write_text('<p>runs/cpu/rooms-s0 and https://example.org/home/x</p>'
                                        '<img src="../../_images/wide.png"><script>var a = "/home/x";</script>')
    (chapters / "bad.html").write_text('<pre># Parameters\nprofile = "cpu"</pre><p>/work/main/runs/cpu</p>'
                                       '<img src="../../_images/narrow.png"><img src="../../_images/gone.png">'
                                       '<script src="https://cdn.example.org/mathjax.js"></script>')
    problems = check_book(tmp_path)
    assert all(p.startswith("book/chapters/bad.html") for p in problems)
    text = "\n".join(problems)
    for what in ("absolute path '/work/main'", "raw parameter dump", "gone.png does not resolve",
                 f"{MIN_FIGURE_PX - 1} px wide", "loads https://cdn.example.org/mathjax.js from the network"):
        assert what in text, what
    assert len(problems) == 5


def test_check_book_needs_a_built_book(tmp_path):
    with pytest.raises(FileNotFoundError, match="no built book"):
        check_book(tmp_path)
