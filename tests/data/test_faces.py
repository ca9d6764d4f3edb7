"""Face crops cut from a folder of photos by the frontal-face detector (data/faces.py)."""

from PIL import Image

from tests.conftest import pack


def test_folder_face_detection_cuts_face_crops(tmp_path):
    from skimage.data import astronaut

    (tmp_path / "photos").mkdir()
    Image.fromarray(astronaut()).save(tmp_path / "photos" / "astronaut.png")
    p = pack("folder", tmp_path / "out", root=tmp_path / "photos", detect_faces=True, min_face=60)
    assert len(p) >= 1
    x0, y0, x1, y1 = p.meta["crops"][0]["box"]
    assert 150 < (x0 + x1) / 2 < 250 and 50 < (y0 + y1) / 2 < 150  # the astronaut's face
    assert x1 - x0 >= 60
