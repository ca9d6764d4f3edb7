"""synth-faces: procedural faces standing in for the paper's 350k web face crops (Sec. 4.2).

Each face is drawn at 128px and area-averaged to 64px. Its factors are sampled independently and
stored per image: a male/female proxy (male: short hair more often, a wider jaw, thicker brows, a
beard with probability 0.45; female: longer hair, lip colour), skin tone, hair length, darkness and
style (straight, parted, curly, bun), eye size and iris colour, a smile that is off (neutral, -0.3..0.15) or on
(0.55..1: the mouth widens, curves up and opens on white teeth, the eyes narrow), drawn large enough to read at
32x32, glasses on/off, head yaw in [-1, 1] (features slide and
foreshorten on a sphere, the far side darkens, one ear shows), roll, the light direction and a
two-colour background with soft blobs. Sec. 6.3.2 scores vector arithmetic with these factors.
"""

from __future__ import annotations

import numpy as np

from .draw import Canvas, hsv, light

ATTRIBUTES = ("male", "smile", "glasses", "yaw", "hair_length", "hair_darkness", "beard", "skin_tone",
              "eye_size", "roll", "light_dir", "bg_brightness", "face_size", "face_x")
DESCRIPTION = __doc__.split("\n\n", 1)[1].strip()
SIZE, FACTOR = 128, 2
VERSION = 2  # 2: bimodal smile with a mouth that reads at 32x32; packs record it and are remade when it changes
# where a continuous factor reads "on": the gap of the bimodal smile, the length past which hair falls to the
# shoulders, any beard (its density starts at 0.3), facing right of the camera
ON_THRESHOLDS = {"smile": 0.35, "hair_length": 0.35, "beard": 0.15, "yaw": 0.0}
HAIR = np.array([(0.06, 0.05, 0.05), (0.25, 0.15, 0.08), (0.45, 0.3, 0.15), (0.85, 0.7, 0.4), (0.6, 0.25, 0.1),
                 (0.7, 0.7, 0.7)], np.float32)  # black, dark brown, brown, blonde, red, grey


class Head:
    """Maps face coordinates (u across, v down, both in [-1, 1]) onto a yawed, rolled head ellipse."""

    def __init__(self, cx, cy, a, b, yaw, roll):
        self.cx, self.cy, self.a, self.b, self.turn, self.roll = cx, cy, a, b, yaw * 0.75, roll

    def xy(self, u, v, depth: float = 0.0):
        """Pixel position of face point (u, v); depth > 0 protrudes (nose tip) and swings further."""
        theta = np.arcsin(np.clip(u, -0.999, 0.999)) + self.turn
        x = self.a * (np.sin(theta) + depth * np.sin(self.turn))
        y = self.b * v
        c, s = np.cos(self.roll), np.sin(self.roll)
        return self.cx + c * x - s * y, self.cy + s * x + c * y

    def scale(self, u) -> float:
        """Horizontal foreshortening at u (1 facing the camera, 0 at the silhouette)."""
        return float(max(np.cos(np.arcsin(np.clip(u, -0.999, 0.999)) + self.turn), 0.0))


def _background(canvas: Canvas, rng) -> float:
    c1, c2 = hsv(rng.random(), rng.uniform(0, 0.6), rng.uniform(0.2, 0.95)), hsv(rng.random(), rng.uniform(0, 0.6),
                                                                                rng.uniform(0.2, 0.95))
    yy = np.linspace(0, 1, SIZE, dtype=np.float32)[:, None, None]
    canvas.img[:] = c1 * (1 - yy) + c2 * yy
    for _ in range(rng.integers(0, 4)):
        canvas.ellipse(rng.uniform(0, SIZE), rng.uniform(0, SIZE), rng.uniform(8, 30), rng.uniform(8, 30),
                       hsv(rng.random(), rng.uniform(0, 0.5), rng.uniform(0.3, 1)), alpha=rng.uniform(0.2, 0.5))
    return float((c1.mean() + c2.mean()) / 2)


def render_face(rng: np.random.Generator, factors: dict[str, float] | None = None) -> tuple[np.ndarray, dict]:
    """One 64x64 face: uint8 (3, 64, 64) and {"attributes": float32 factors in ATTRIBUTES order}. `factors` sets
    any of male, smile, glasses and yaw instead of drawing it (the rest of the face is drawn from rng as ever)."""
    canvas = Canvas(SIZE)
    bg = _background(canvas, rng)
    male = float(rng.random() < 0.5)
    # bimodal, as a concept is on or off in Fig. 7; the gap around ON_THRESHOLDS['smile'] keeps the reading clear
    smile = float(rng.uniform(0.55, 1.0) if rng.random() < 0.5 else rng.uniform(-0.3, 0.15))
    glasses = float(rng.random() < 0.3)
    yaw = float(rng.uniform(-1, 1))
    given = factors or {}
    if set(given) - {"male", "smile", "glasses", "yaw"}:
        raise ValueError(f"factors may set male, smile, glasses and yaw; got {sorted(given)}")
    male, smile, glasses, yaw = (float(given.get(k, v)) for k, v in
                                 (("male", male), ("smile", smile), ("glasses", glasses), ("yaw", yaw)))
    roll = float(rng.normal(0, 0.08))
    hair_len = float(np.clip(rng.beta(1.5, 4) if male else rng.beta(4, 1.8), 0, 1))
    hair_idx = rng.choice(len(HAIR), p=[0.3, 0.25, 0.15, 0.15, 0.07, 0.08])
    hair = HAIR[hair_idx] * rng.uniform(0.85, 1.15)
    beard = float(rng.uniform(0.3, 1.0)) if male and rng.random() < 0.45 else 0.0
    tone = float(rng.uniform(0, 1))
    skin = np.array([0.98, 0.82, 0.7]) * (1 - tone) + np.array([0.4, 0.26, 0.17]) * tone
    eye_size = float(rng.uniform(0.7, 1.3))
    light_dir = float(rng.uniform(-1, 1))
    size = float(rng.uniform(0.85, 1.1))
    a = SIZE * 0.25 * size * (1.08 if male else 1.0)
    b = a * rng.uniform(1.22, 1.38)
    cx, cy = SIZE / 2 + rng.normal(0, 3), SIZE * 0.5 + rng.normal(0, 3)
    head = Head(cx, cy, a, b, yaw, roll)
    style = rng.choice(["straight", "parted", "curly", "bun"], p=[0.4, 0.3, 0.2, 0.1])

    # shoulders and neck
    cloth = hsv(rng.random(), rng.uniform(0, 0.8), rng.uniform(0.15, 0.9))
    canvas.ellipse(cx + yaw * 4, SIZE * 1.02, a * 2.1, a * 0.9, cloth)
    canvas.poly([cx - a * 0.45, cx + a * 0.45, cx + a * 0.5, cx - a * 0.5], [cy + b * 0.5, cy + b * 0.5, SIZE * 0.97,
                                                                           SIZE * 0.97], skin * 0.8)
    # hair behind the head: long hair falls to the shoulders
    if hair_len > 0.35 and style != "bun":
        drop = b * (0.6 + 1.2 * hair_len)
        canvas.poly([cx - a * 1.15, cx + a * 1.15, cx + a * 1.2, cx - a * 1.2], [cy - b * 0.3, cy - b * 0.3,
                    cy + drop, cy + drop], hair * 0.85)
    # ears: the one on the side turned away from the camera shows
    for side in (-1, 1):
        if side * yaw < 0.35:
            ex, ey = head.xy(side * 0.99, 0.05)
            canvas.ellipse(ex + side * 1.5, ey, a * 0.14 * (0.6 + 0.4 * abs(yaw)), b * 0.16, skin * 0.92)
    # the face: an ellipse (wider jaw for male), shaded by the light and the far side of the turn
    lx = cx + light_dir * a * 0.8

    def face_shade(rr, cc):
        turn_dark = 1 - 0.25 * np.clip(-(cc - cx) * np.sign(yaw) / a, 0, 1) * abs(yaw)
        return (light(lx, cy - b * 0.3, 0.25, a * 1.2, 0.85)(rr, cc) * turn_dark).astype(np.float32)
    jaw = 1.0 if male else 0.9
    canvas.ellipse(cx + a * 0.08 * np.sin(head.turn), cy - b * 0.25, a * 1.1, b * (0.82 + 0.1 * hair_len), hair)
    face_cx = cx + a * 0.12 * np.sin(head.turn)
    canvas.ellipse(face_cx, cy, a * (0.95 + 0.05 * (1 - abs(yaw))), b, skin, rotation=-roll, shade=face_shade)
    canvas.ellipse(face_cx, cy + b * 0.35, a * 0.8 * jaw, b * 0.62, skin, rotation=-roll, shade=face_shade)
    # beard: a darker region over the lower face
    if beard:  # the jaw ellipse below the cheeks, in the hair colour, denser with `beard`
        rr, cc = canvas.ellipse(face_cx, cy + b * 0.38, a * 0.84 * jaw, b * 0.64, skin, rotation=-roll, alpha=0)
        keep = rr > cy + b * (0.3 - 0.1 * beard)
        canvas.fill(rr[keep], cc[keep], hair * 0.9, alpha=0.5 + 0.45 * beard)
    # eyes, irises, brows
    iris = hsv(rng.choice([0.08, 0.55, 0.3]), rng.uniform(0.3, 0.8), rng.uniform(0.2, 0.6))
    squint = 1 - 0.35 * max(smile, 0)
    for side in (-1, 1):
        u = side * 0.38
        s = head.scale(u)
        if s < 0.15:
            continue
        ex, ey = head.xy(u, -0.08)
        rx, ry = a * 0.16 * eye_size * s, b * 0.065 * eye_size * squint
        canvas.ellipse(ex, ey, rx, ry, (0.95, 0.95, 0.93), rotation=-roll)
        canvas.ellipse(ex + a * 0.05 * np.sin(head.turn), ey, min(rx, ry * 1.1), ry * 1.05, iris)
        canvas.ellipse(ex + a * 0.05 * np.sin(head.turn), ey, min(rx, ry) * 0.45, ry * 0.45, (0.03, 0.03, 0.03))
        bx0, by0 = head.xy(side * 0.18, -0.3 - 0.03 * smile)
        bx1, by1 = head.xy(side * 0.62, -0.28)
        canvas.line(bx0, by0, bx1, by1, (3.2 if male else 2.0) * max(s, 0.4), hair * 0.8)
    # nose: a shadow along the bridge and the nostrils; it swings further with the turn (depth)
    nx, ny = head.xy(0.0, 0.28, depth=0.35)
    tx, ty = head.xy(0.0, -0.05, depth=0.1)
    canvas.line(tx, ty, nx, ny, 2.0, skin * 0.72)
    canvas.ellipse(nx, ny + 1, a * 0.12, b * 0.04, skin * 0.65)
    # mouth: a curve whose ends lift with the smile; past 0.45 it opens on a band of teeth (visible at 32x32)
    width = 0.36 + 0.16 * max(smile, 0)
    us = np.linspace(-width, width, 9)
    vs = 0.55 - 0.2 * smile * (us / width) ** 2 + 0.06 * smile
    pts = np.array([head.xy(u, v) for u, v in zip(us, vs)])
    lip = np.array([0.7, 0.3, 0.3]) if not male and rng.random() < 0.6 else skin * np.array([0.8, 0.55, 0.55])
    if smile > 0.45:
        open_h = b * (0.1 + 0.1 * (smile - 0.45) / 0.55)
        low = pts.copy()
        low[:, 1] += open_h * np.cos(np.linspace(-np.pi / 2, np.pi / 2, 9))
        canvas.poly(np.r_[pts[:, 0], low[::-1, 0]], np.r_[pts[:, 1], low[::-1, 1]], (0.3, 0.05, 0.07))
        canvas.poly(np.r_[pts[:, 0], pts[::-1, 0]], np.r_[pts[:, 1], pts[::-1, 1] + open_h * 0.5], (0.97, 0.96, 0.92))
        canvas.polyline(low[:, 0], low[:, 1], 2.6, lip)
    canvas.polyline(pts[:, 0], pts[:, 1], 3.2, lip)
    # hair on top: cap over the head, shaped by the style
    top_y = cy - b * 0.62
    fringe = 0.55 - 0.15 * rng.random()  # how far down the forehead the hairline sits
    us = np.linspace(-0.98, 0.98, 11)
    line = np.array([head.xy(u, -fringe - 0.25 * u * u) for u in us])
    crown = np.array([head.xy(u, -1.06 * np.sqrt(1 - 0.85 * u * u)) for u in us[::-1]])
    canvas.poly(np.r_[line[:, 0], crown[:, 0]], np.r_[line[:, 1], crown[:, 1]], hair)
    if style == "parted":
        px = cx + rng.choice([-1, 1]) * a * 0.35
        canvas.line(px, top_y - b * 0.05, px + (cx - px) * 0.5, cy - b * 0.3, 1.5, skin * 0.75)
    elif style == "curly":
        for k in range(12):
            ang = np.pi * (k / 11)
            canvas.ellipse(cx - a * 1.05 * np.cos(ang), cy - b * 0.45 - b * 0.45 * np.sin(ang), a * 0.22, a * 0.22,
                           hair * rng.uniform(0.85, 1.1))
    elif style == "bun":
        canvas.ellipse(cx, cy - b * 1.08, a * 0.35, a * 0.3, hair)
    if hair_len > 0.35 and style != "bun":  # side locks framing the face
        for side in (-1, 1):
            canvas.poly([cx + side * a * 1.05, cx + side * a * 0.78, cx + side * a * 0.82, cx + side * a * 1.12],
                        [cy - b * 0.4, cy - b * 0.4, cy + b * (0.2 + 0.6 * hair_len), cy + b * (0.2 + 0.6 * hair_len)],
                        hair * 0.95)
    # glasses: two rims, a bridge and the arms
    if glasses:
        frame = np.array(rng.choice([(0.05, 0.05, 0.05), (0.55, 0.55, 0.6), (0.4, 0.2, 0.1)]))
        for side in (-1, 1):
            s = head.scale(side * 0.38)
            if s < 0.15:
                continue
            gx, gy = head.xy(side * 0.38, -0.07)
            rx, ry = a * 0.24 * s, b * 0.13
            canvas.ellipse(gx, gy, rx + 1.6, ry + 1.6, frame, rotation=-roll)
            canvas.ellipse(gx, gy, rx, ry, (0.85, 0.9, 0.95), rotation=-roll, alpha=0.25)
            ox, oy = head.xy(side * 0.98, -0.05)
            canvas.line(gx + side * rx * 0.9, gy, ox, oy, 1.4, frame)
        (g0x, g0y), (g1x, g1y) = head.xy(-0.14, -0.09), head.xy(0.14, -0.09)
        canvas.line(g0x, g0y, g1x, g1y, 1.4, frame)
    img = canvas.finish(FACTOR, rng.uniform(0.005, 0.02), rng)
    attrs = np.array([male, smile, glasses, yaw, hair_len, 1 - float(HAIR[hair_idx].mean()), beard, tone, eye_size,
                      roll, light_dir, bg, size, (cx - SIZE / 2) / SIZE], np.float32)
    return img, {"attributes": attrs}
