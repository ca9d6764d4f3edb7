"""dcgan_core: a paper-faithful DCGAN (Radford, Metz & Chintala 2015) and the paper's analyses."""

__version__ = "0.1.0"
