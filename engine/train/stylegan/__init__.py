"""The style GAN's trainer (``python -m engine.train stylegan``): WGAN-GP with an AC-GAN style head.

A generator of four-track 2-bar windows, conditioned on a style, the window's chords and the window before it, is
trained against a critic that scores windows under the same conditions and names their style. The parts:

* :mod:`.config`: the settings (:class:`StyleGANTrainConfig`, with the generator's config as ``model``);
* :mod:`.data`: the real windows with their conditions (previous window, chords), transposed, style-balanced;
* :mod:`.losses`: the generator's losses beside the critic's score (chord share, scale share, stepwise motion, rests);
* :mod:`.report`: the epoch's sample metrics and the score that picks the best epoch;
* :mod:`.loop`: the updates, the log and the checkpoints (:func:`train_stylegan`).
"""

from engine.train.stylegan.config import StyleGANTrainConfig
from engine.train.stylegan.loop import train_stylegan

__all__ = ["StyleGANTrainConfig", "train_stylegan"]
