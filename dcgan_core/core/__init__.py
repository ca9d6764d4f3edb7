"""The core: models (Sec. 3), training (Sec. 4), checkpoints with exact resume, torchrun + DDP, run keys."""
