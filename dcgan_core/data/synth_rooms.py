"""synth-rooms: procedural bedrooms standing in for LSUN bedrooms (Sec. 4.1), with object boxes.

Each scene is a box-shaped room seen by a pinhole camera (random width, depth, height, camera
position, yaw and field of view), drawn far to near at 128px and area-averaged to 64px. A bed stands
against the back or a side wall; 0-3 windows show a sky (day, overcast, dusk or night, with clouds
and a skyline) behind a frame with mullions and optional curtains; lamps on nightstands glow; a door;
and window-like confusers: framed pictures (some sky-coloured) and mirrors. Colours, materials and
the light (level, direction, lamp glow, daylight patches) vary per image. Boxes are the visible extent
of each object (an id buffer handles occlusion), in output pixels.
"""

from __future__ import annotations

import numpy as np

from .draw import Canvas, hsv, vertical_gradient

CLASSES = ("window", "bed", "lamp", "door", "picture", "mirror", "nightstand")
DESCRIPTION = __doc__.split("\n\n", 1)[1].strip()
SIZE, FACTOR = 128, 2
VERSION = 1  # packs record it and are remade when it changes


class Camera:
    """Pinhole camera at (cx, cy, 0) looking down +z, rotated by `yaw` about the vertical."""

    def __init__(self, cx: float, cy: float, yaw: float, focal: float):
        self.cx, self.cy, self.cos, self.sin, self.f = cx, cy, np.cos(yaw), np.sin(yaw), focal

    def project(self, pts: np.ndarray) -> np.ndarray:
        """(n, 3) world points (x, y up, z depth) -> (n, 2) pixels, clipped in front of the camera."""
        x, y, z = pts[:, 0] - self.cx, pts[:, 1] - self.cy, pts[:, 2]
        xc, zc = self.cos * x - self.sin * z, self.sin * x + self.cos * z
        cam = np.stack([xc, y, zc], 1)
        cam = _clip_near(cam, 0.05)
        if len(cam) == 0:
            return np.zeros((0, 2))
        return np.stack([SIZE / 2 + self.f * cam[:, 0] / cam[:, 2], SIZE / 2 - self.f * cam[:, 1] / cam[:, 2]], 1)


def _clip_near(poly: np.ndarray, near: float) -> np.ndarray:
    """Sutherland-Hodgman clip of a convex polygon against the plane z = near."""
    out = []
    for i in range(len(poly)):
        a, b = poly[i], poly[(i + 1) % len(poly)]
        if a[2] >= near:
            out.append(a)
        if (a[2] >= near) != (b[2] >= near):
            t = (near - a[2]) / (b[2] - a[2])
            out.append(a + t * (b - a))
    return np.array(out).reshape(-1, 3)


def _quad(cam: Camera, canvas: Canvas, pts, colour, obj=0, shade=None, alpha=1.0):
    p = cam.project(np.asarray(pts, float))
    if len(p) >= 3:
        return canvas.poly(p[:, 0], p[:, 1], colour, obj, shade, alpha)
    return np.zeros((2, 0), int)


def _wall_rect(wall: str, u0, u1, y0, y1, room) -> list:
    """Rectangle on a wall: u runs along the wall (x on the back wall, depth on the side walls)."""
    W, D, eps = room["W"], room["D"], 0.01
    if wall == "back":
        return [(u0, y0, D - eps), (u1, y0, D - eps), (u1, y1, D - eps), (u0, y1, D - eps)]
    x = -W / 2 + eps if wall == "left" else W / 2 - eps
    return [(x, y0, u0), (x, y0, u1), (x, y1, u1), (x, y1, u0)]


def _box_faces(x0, x1, y0, y1, z0, z1):
    """Top, front (near, z0), left and right faces of an axis-aligned box."""
    return {"top": [(x0, y1, z0), (x1, y1, z0), (x1, y1, z1), (x0, y1, z1)],
            "front": [(x0, y0, z0), (x1, y0, z0), (x1, y1, z0), (x0, y1, z0)],
            "left": [(x0, y0, z0), (x0, y0, z1), (x0, y1, z1), (x0, y1, z0)],
            "right": [(x1, y0, z0), (x1, y0, z1), (x1, y1, z1), (x1, y1, z0)]}


def _draw_box(cam, canvas, box, colour, obj, lit, cam_x):
    f = _box_faces(*box)
    side = "left" if cam_x < box[0] else "right" if cam_x > box[1] else None
    if side:
        _quad(cam, canvas, f[side], colour * 0.7 * lit, obj)
    _quad(cam, canvas, f["front"], colour * 0.82 * lit, obj)
    _quad(cam, canvas, f["top"], colour * lit, obj)


def _sky(rng, top_y, bot_y):
    kind = rng.choice(["day", "overcast", "dusk", "night"], p=[0.45, 0.2, 0.2, 0.15])
    top, bot = {"day": ((0.25, 0.45, 0.85), (0.7, 0.85, 1.0)), "overcast": ((0.7, 0.72, 0.75), (0.88, 0.88, 0.9)),
                "dusk": ((0.35, 0.3, 0.6), (1.0, 0.6, 0.35)), "night": ((0.02, 0.03, 0.12), (0.1, 0.12, 0.3))}[kind]
    jit = rng.uniform(-0.06, 0.06, 3)
    return kind, vertical_gradient(np.clip(np.add(top, jit), 0, 1), np.clip(np.add(bot, jit), 0, 1), top_y, bot_y)


def _window(cam, canvas, rng, room, wall, u0, u1, y0, y1, obj, lit):
    frame = rng.choice([(0.95, 0.95, 0.93), (0.45, 0.3, 0.18), (0.15, 0.15, 0.15), (0.75, 0.75, 0.78)])
    pix = _quad(cam, canvas, _wall_rect(wall, u0, u1, y0, y1, room), np.array(frame) * lit, obj)
    if pix.shape[1] == 0:
        return None
    t = rng.uniform(0.05, 0.09)
    inner = _wall_rect(wall, u0 + t, u1 - t, y0 + t, y1 - t, room)
    p = cam.project(np.asarray(inner, float))
    if len(p) < 3:
        return None
    kind, sky = _sky(rng, p[:, 1].min(), p[:, 1].max())
    glass = canvas.poly(p[:, 0], p[:, 1], (1, 1, 1), obj, shade=sky)
    rr, cc = glass
    if len(rr) and kind in ("day", "overcast", "dusk"):  # clouds: soft blobs clipped to the glass
        mask = np.zeros((SIZE, SIZE), bool)
        mask[rr, cc] = True
        for _ in range(rng.integers(0, 4)):
            k = rng.integers(len(rr))
            cl = canvas.ellipse(cc[k], rr[k], rng.uniform(2, 7), rng.uniform(1, 3), (1, 1, 1), alpha=0)
            keep = mask[cl[0], cl[1]]
            canvas.fill(cl[0][keep], cl[1][keep], (0.97, 0.97, 0.97), obj, alpha=rng.uniform(0.4, 0.8))
    if len(rr) and rng.random() < 0.5:  # skyline: trees or buildings along the bottom of the glass
        base = rr.max()
        h = rng.uniform(0.1, 0.35) * (rr.max() - rr.min())
        col = np.array(rng.choice([(0.15, 0.3, 0.15), (0.3, 0.3, 0.35), (0.05, 0.05, 0.08)]))
        bumps = base - h * (0.6 + 0.4 * np.sin(cc * rng.uniform(0.3, 1.2) + rng.uniform(0, 6)))
        keep = rr > bumps
        canvas.fill(rr[keep], cc[keep], col, obj)
    mullions = rng.choice(["none", "vertical", "cross", "grid"], p=[0.2, 0.3, 0.35, 0.15])
    w = 0.03
    um, ym = (u0 + u1) / 2, (y0 + y1) / 2
    bars = []
    if mullions in ("vertical", "cross", "grid"):
        bars.append(_wall_rect(wall, um - w, um + w, y0, y1, room))
    if mullions in ("cross", "grid"):
        bars.append(_wall_rect(wall, u0, u1, ym - w, ym + w, room))
    if mullions == "grid":
        for f in (0.25, 0.75):
            bars.append(_wall_rect(wall, u0 + f * (u1 - u0) - w, u0 + f * (u1 - u0) + w, y0, y1, room))
    for b in bars:
        _quad(cam, canvas, b, np.array(frame) * lit, obj)
    return kind


def _curtains(cam, canvas, rng, room, wall, u0, u1, y0, y1, lit):
    col = hsv(rng.random(), rng.uniform(0.2, 0.7), rng.uniform(0.4, 0.9)) * lit
    cover = rng.uniform(0.1, 0.3) * (u1 - u0)
    top = min(y1 + 0.2, room["H"] - 0.02)
    folds = lambda rr, cc: (0.85 + 0.15 * np.sin(cc * 1.3)).astype(np.float32)  # noqa: E731
    for a, b in ((u0 - 0.15, u0 + cover), (u1 - cover, u1 + 0.15)):
        _quad(cam, canvas, _wall_rect(wall, a, b, y0 - 0.25, top, room), col, shade=folds)


def _framed(cam, canvas, rng, room, wall, u0, u1, y0, y1, obj, lit, mirror: bool):
    frame = hsv(rng.random(), rng.uniform(0, 0.5), rng.uniform(0.1, 0.8))
    _quad(cam, canvas, _wall_rect(wall, u0, u1, y0, y1, room), frame * lit, obj)
    t = rng.uniform(0.03, 0.07)
    p = cam.project(np.asarray(_wall_rect(wall, u0 + t, u1 - t, y0 + t, y1 - t, room), float))
    if len(p) < 3:
        return
    if mirror:  # a reflection: a blurred, greyish copy of the room's colours with a highlight streak
        shade = vertical_gradient(room["wall"] * 0.9 + 0.1, room["floor"] * 0.8 + 0.15, p[:, 1].min(), p[:, 1].max())
        canvas.poly(p[:, 0], p[:, 1], (1, 1, 1), obj, shade=shade)
        cx = p[:, 0].mean()
        canvas.poly([cx - 3, cx, cx + 5, cx + 2], [p[:, 1].min(), p[:, 1].min(), p[:, 1].max(), p[:, 1].max()],
                    (1, 1, 1), obj, alpha=0.35)
    elif rng.random() < 0.3:  # a landscape painting with a sky: the hardest confuser
        _, sky = _sky(rng, p[:, 1].min(), p[:, 1].max())
        canvas.poly(p[:, 0], p[:, 1], (1, 1, 1), obj, shade=sky)
        ymid = p[:, 1].min() + 0.6 * (p[:, 1].max() - p[:, 1].min())
        canvas.poly([p[:, 0].min(), p[:, 0].max(), p[:, 0].max(), p[:, 0].min()],
                    [ymid, ymid - 2, p[:, 1].max(), p[:, 1].max()], hsv(rng.uniform(0.2, 0.4), 0.6, 0.5), obj)
    else:  # abstract: a coloured ground with a few blobs
        canvas.poly(p[:, 0], p[:, 1], hsv(rng.random(), rng.uniform(0.2, 0.8), rng.uniform(0.3, 0.95)) * lit, obj)
        for _ in range(rng.integers(1, 4)):
            k = rng.integers(len(p))
            c = p.mean(0) * 0.6 + p[k] * 0.4
            canvas.ellipse(c[0], c[1], rng.uniform(1, 4), rng.uniform(1, 4),
                           hsv(rng.random(), 0.7, rng.uniform(0.3, 1)) * lit, obj)


def _free(spans: list, a: float, b: float, gap: float = 0.15) -> bool:
    return all(b + gap < s or a - gap > e for s, e in spans)


def render_room(rng: np.random.Generator, hide: tuple[str, ...] = ()) -> tuple[np.ndarray, dict]:
    """One 64x64 bedroom: uint8 (3, 64, 64) and {"boxes": [[class, x0, y0, x1, y1], ...]}. hide: classes left
    unpainted (the wall shows through) while every random draw stays the same, so the same rng state gives the
    same room without them."""
    if unknown := set(hide) - set(CLASSES):
        raise ValueError(f"hide names unknown classes {sorted(unknown)}; valid: {', '.join(CLASSES)}")
    W, D, H = rng.uniform(3.0, 4.6), rng.uniform(3.6, 5.2), rng.uniform(2.4, 3.0)
    wall_col = hsv(rng.choice([0.08, 0.12, 0.55, 0.3, 0.95, 0.6, 0.15]) + rng.uniform(-0.03, 0.03),
                   rng.uniform(0.05, 0.4), rng.uniform(0.6, 0.95))
    floor_kind = rng.choice(["wood", "carpet", "tile"])
    floor_col = {"wood": hsv(rng.uniform(0.05, 0.1), rng.uniform(0.4, 0.7), rng.uniform(0.3, 0.65)),
                 "carpet": hsv(rng.random(), rng.uniform(0.1, 0.5), rng.uniform(0.3, 0.75)),
                 "tile": hsv(rng.random(), rng.uniform(0, 0.15), rng.uniform(0.55, 0.9))}[floor_kind]
    room = {"W": W, "D": D, "H": H, "wall": wall_col, "floor": floor_col}
    cam = Camera(rng.uniform(-W / 5, W / 5), rng.uniform(1.1, 1.7), rng.uniform(-0.3, 0.3),
                 rng.uniform(0.6, 0.9) * SIZE)
    level = rng.uniform(0.55, 1.1)  # overall light
    side_light = rng.uniform(-0.25, 0.25)  # which side is brighter
    canvas = Canvas(SIZE, wall_col * level)
    z0 = 0.1
    L, R = -W / 2, W / 2

    # shell: back wall, side walls, ceiling, floor (walls shaded by the side light)
    _quad(cam, canvas, [(L, 0, D), (R, 0, D), (R, H, D), (L, H, D)], wall_col * level)
    _quad(cam, canvas, [(L, 0, z0), (L, 0, D), (L, H, D), (L, H, z0)], wall_col * level * (0.8 - side_light))
    _quad(cam, canvas, [(R, 0, z0), (R, 0, D), (R, H, D), (R, H, z0)], wall_col * level * (0.8 + side_light))
    _quad(cam, canvas, [(L, H, z0), (R, H, z0), (R, H, D), (L, H, D)], np.minimum(wall_col * 1.15, 1) * level)
    planks = (lambda rr, cc: (0.9 + 0.1 * np.sign(np.sin(cc * 0.9 + rr * 0.15))).astype(np.float32)) \
        if floor_kind == "wood" else None
    _quad(cam, canvas, [(L, 0, z0), (R, 0, z0), (R, 0, D), (L, 0, D)], floor_col * level, shade=planks)
    if rng.random() < 0.4:  # a rug
        rx, rz = rng.uniform(-W / 4, W / 4), rng.uniform(D * 0.3, D * 0.6)
        _quad(cam, canvas, [(rx - 0.8, 0.005, rz - 0.6), (rx + 0.8, 0.005, rz - 0.6), (rx + 0.8, 0.005, rz + 0.6),
                            (rx - 0.8, 0.005, rz + 0.6)], hsv(rng.random(), 0.5, rng.uniform(0.3, 0.8)) * level)

    boxes: dict[int, str] = {}
    next_id = [1]

    def new(cls: str) -> int:
        boxes[next_id[0]] = cls
        if cls in hide:
            canvas.hidden.add(next_id[0])
        next_id[0] += 1
        return next_id[0] - 1

    # the bed: against the back wall (or a side wall), with room for nightstands
    bed_w, bed_l = rng.uniform(1.3, 2.0), rng.uniform(1.9, 2.2)
    bed_wall = rng.choice(["back", "left", "right"], p=[0.7, 0.15, 0.15])
    used = {"back": [], "left": [], "right": []}
    if bed_wall == "back":
        bx = rng.uniform(L + bed_w / 2 + 0.6, R - bed_w / 2 - 0.6) if W > bed_w + 1.3 else 0.0
        bed = (bx - bed_w / 2, bx + bed_w / 2, D - bed_l, D)
        used["back"].append((bed[0] - 0.5, bed[1] + 0.5))
    else:
        bz = rng.uniform(D - 1.6, D - bed_w / 2 - 0.55)
        x_in = L if bed_wall == "left" else R - bed_l
        bed = (x_in, x_in + bed_l, bz - bed_w / 2, bz + bed_w / 2)
        used[bed_wall].append((bed[2] - 0.5, bed[3] + 0.5))

    # wall objects: windows, door, pictures, mirrors, placed without overlap
    n_win = rng.choice([0, 1, 2, 3], p=[0.15, 0.45, 0.3, 0.1])
    wall_items = ["window"] * n_win + (["door"] if rng.random() < 0.5 else [])
    wall_items += ["picture"] * rng.choice([0, 1, 2], p=[0.4, 0.4, 0.2]) + (["mirror"] if rng.random() < 0.3 else [])
    placed = []
    for cls in wall_items:
        for _ in range(10):
            wall = rng.choice(["back", "left", "right"], p=[0.5, 0.25, 0.25])
            lo, hi = (L + 0.2, R - 0.2) if wall == "back" else (z0 + 1.0, D - 0.2)
            width = {"window": rng.uniform(0.8, 1.7), "door": rng.uniform(0.8, 0.95),
                     "picture": rng.uniform(0.3, 0.9), "mirror": rng.uniform(0.4, 0.7)}[cls]
            if hi - lo < width:
                continue
            u0 = rng.uniform(lo, hi - width)
            if cls == "door":
                y0, y1 = 0.0, min(rng.uniform(1.95, 2.15), H - 0.1)
            elif cls == "window":
                y0 = rng.uniform(0.7, 1.1)
                y1 = min(y0 + rng.uniform(1.0, 1.6), H - 0.15)
            elif cls == "mirror":
                y0 = rng.uniform(0.5, 1.0)
                y1 = min(y0 + rng.uniform(0.8, 1.4), H - 0.15)
            else:
                y0 = rng.uniform(1.1, 1.5)
                y1 = min(y0 + rng.uniform(0.3, 0.8), H - 0.15)
            tall = cls in ("door", "mirror") or y0 < 1.1
            if _free(used[wall], u0, u0 + width) and not (tall and wall == bed_wall):
                used[wall].append((u0, u0 + width))
                placed.append((cls, wall, u0, u0 + width, y0, y1))
                break
    lit_wall = {"back": level, "left": level * (0.8 - side_light), "right": level * (0.8 + side_light)}
    daylight = []
    for cls, wall, u0, u1, y0, y1 in placed:
        obj, lit = new(cls), lit_wall[wall]
        if cls == "window":
            kind = _window(cam, canvas, rng, room, wall, u0, u1, y0, y1, obj, lit)
            if rng.random() < 0.4:
                _curtains(cam, canvas, rng, room, wall, u0, u1, y0, y1, lit)
            if kind in ("day", "overcast"):
                daylight.append((wall, u0, u1))
        elif cls == "door":
            col = np.array(rng.choice([(0.95, 0.94, 0.9), (0.5, 0.33, 0.2), (0.35, 0.22, 0.12), (0.7, 0.7, 0.72)]))
            _quad(cam, canvas, _wall_rect(wall, u0, u1, y0, y1, room), col * lit, obj)
            for a, b in ((0.3, 0.9), (1.1, 1.85)):  # panel insets
                _quad(cam, canvas, _wall_rect(wall, u0 + 0.12, u1 - 0.12, a, b, room), col * lit * 0.88, obj)
            k = cam.project(np.array([_wall_rect(wall, u1 - 0.1, u1 - 0.06, 1.0, 1.04, room)[0]], float))
            if len(k):
                canvas.ellipse(k[0, 0], k[0, 1], 1.2, 1.2, (0.8, 0.7, 0.3), obj)
        else:
            _framed(cam, canvas, rng, room, wall, u0, u1, y0, y1, obj, lit, mirror=cls == "mirror")
    for wall, u0, u1 in daylight:  # a patch of daylight on the floor below the window
        x0, x1, zz0, zz1 = ((u0, u1, D - 1.2, D - 0.05) if wall == "back" else
                            (L + 0.05, L + 1.0, u0, u1) if wall == "left" else (R - 1.0, R - 0.05, u0, u1))
        _quad(cam, canvas, [(x0, 0.004, zz0), (x1, 0.004, zz0), (x1, 0.004, zz1), (x0, 0.004, zz1)],
              np.minimum(floor_col * level * 1.5 + 0.1, 1), alpha=0.35)

    # furniture, far to near: nightstands with lamps, then the bed
    furniture = []
    bed_lit = level * rng.uniform(0.9, 1.05)
    for side in (-1, 1):
        if rng.random() < 0.65:
            if bed_wall == "back":
                nx = bed[0] - 0.3 if side < 0 else bed[1] + 0.3
                ns = (nx - 0.25, nx + 0.25, 0.0, rng.uniform(0.45, 0.6), D - 0.45, D - 0.02)
            else:
                nz = bed[2] - 0.3 if side < 0 else bed[3] + 0.3
                x_in = L + 0.02 if bed_wall == "left" else R - 0.47
                ns = (x_in, x_in + 0.45, 0.0, rng.uniform(0.45, 0.6), nz - 0.25, nz + 0.25)
            furniture.append(("nightstand", ns))
    col_ns = hsv(rng.uniform(0.05, 0.1), rng.uniform(0.2, 0.6), rng.uniform(0.25, 0.8))
    shade_col = hsv(rng.uniform(0.05, 0.15), rng.uniform(0.1, 0.5), rng.uniform(0.75, 1.0))
    lamp_on = rng.random() < 0.6
    for _, (x0, x1, y0, y1, zz0, zz1) in sorted(furniture, key=lambda f: -f[1][5]):
        _draw_box(cam, canvas, (x0, x1, y0, y1, zz0, zz1), col_ns, new("nightstand"), level, cam.cx)
        if rng.random() < 0.85:  # a lamp on it: a stem and a lampshade (a truncated cone seen as a trapezoid)
            obj = new("lamp")
            cx, cz = (x0 + x1) / 2, (zz0 + zz1) / 2
            top = y1 + rng.uniform(0.35, 0.5)
            _quad(cam, canvas, [(cx - 0.02, y1, cz), (cx + 0.02, y1, cz), (cx + 0.02, top, cz), (cx - 0.02, top, cz)],
                  (0.2, 0.2, 0.2), obj)
            sw, sh = rng.uniform(0.12, 0.2), rng.uniform(0.2, 0.3)
            p = cam.project(np.array([(cx - sw, top - 0.05, cz), (cx + sw, top - 0.05, cz),
                                      (cx + sw * 0.6, top + sh, cz), (cx - sw * 0.6, top + sh, cz)]))
            if len(p) >= 3:
                if lamp_on:  # warm glow on the wall around the shade
                    c = p.mean(0)
                    r = 2.5 * np.ptp(p[:, 0])
                    canvas.ellipse(c[0], c[1], r, r, (1.0, 0.85, 0.55), alpha=0.25)
                canvas.poly(p[:, 0], p[:, 1], shade_col * (1.15 if lamp_on else level), obj)
    # the bed: a frame box, the mattress with a blanket, pillows, a headboard
    bed_obj = new("bed")
    frame_col = hsv(rng.uniform(0.04, 0.12), rng.uniform(0.2, 0.7), rng.uniform(0.15, 0.75))
    blanket = hsv(rng.random(), rng.uniform(0.1, 0.7), rng.uniform(0.35, 0.95))
    sheet = np.array([0.93, 0.93, 0.9]) * rng.uniform(0.85, 1.0)
    mh, hb = rng.uniform(0.45, 0.6), rng.uniform(0.9, 1.3)
    if bed_wall == "back":
        bx0, bx1, bz0, bz1 = bed
        _quad(cam, canvas, [(bx0 - 0.05, 0, D - 0.03), (bx1 + 0.05, 0, D - 0.03), (bx1 + 0.05, hb, D - 0.03),
                            (bx0 - 0.05, hb, D - 0.03)], frame_col * level, bed_obj)
        _draw_box(cam, canvas, (bx0, bx1, 0.0, mh, bz0, bz1), blanket, bed_obj, bed_lit, cam.cx)
        fold = bz1 - rng.uniform(0.5, 0.8)
        _quad(cam, canvas, [(bx0, mh + 0.005, fold), (bx1, mh + 0.005, fold), (bx1, mh + 0.005, bz1),
                            (bx0, mh + 0.005, bz1)], sheet * bed_lit, bed_obj)
        n_pil = 2 if bed_w > 1.5 else rng.choice([1, 2])
        for k in range(n_pil):
            a = bx0 + 0.08 + k * (bed_w - 0.16) / n_pil
            b = a + (bed_w - 0.16) / n_pil - 0.06
            pillow = (a, b, mh, mh + 0.15, bz1 - 0.55, bz1 - 0.08)
            _draw_box(cam, canvas, pillow, sheet * 1.02, bed_obj, bed_lit, cam.cx)
    else:
        x0, x1, bz0, bz1 = bed
        xw = x0 + 0.03 if bed_wall == "left" else x1 - 0.03
        _quad(cam, canvas, [(xw, 0, bz0 - 0.05), (xw, 0, bz1 + 0.05), (xw, hb, bz1 + 0.05), (xw, hb, bz0 - 0.05)],
              frame_col * level, bed_obj)
        _draw_box(cam, canvas, (x0, x1, 0.0, mh, bz0, bz1), blanket, bed_obj, bed_lit, cam.cx)
        pil = (x0 + 0.08, x0 + 0.5) if bed_wall == "left" else (x1 - 0.5, x1 - 0.08)
        _draw_box(cam, canvas, (*pil, mh, mh + 0.15, bz0 + 0.1, bz1 - 0.1), sheet, bed_obj, bed_lit, cam.cx)

    # global light: a soft gradient across the image and a vignette
    xs = np.arange(SIZE, dtype=np.float32)
    grad = 1 + side_light * 0.6 * (xs / SIZE - 0.5)
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32) / SIZE - 0.5
    canvas.img *= (grad[None, :] * (1 - rng.uniform(0.2, 0.5) * (xx ** 2 + yy ** 2)))[..., None]
    img = canvas.finish(FACTOR, rng.uniform(0.005, 0.02), rng)
    vis = canvas.boxes(FACTOR)
    out = [[CLASSES.index(boxes[k]), *[round(float(v), 2) for v in vis[k]]] for k in sorted(vis)]
    return img, {"boxes": out}
