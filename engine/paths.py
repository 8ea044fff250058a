"""Where the shipped files live, defined once and relative to the package (never to the working directory).

checkpoints/<family>/   model.safetensors + config.json (+ generation.json) + README.md (the model card)
assets/soundfonts/      the SoundFont the studio renders with
assets/examples/        the example tunes (MIDI) and their index
data_cache/             caches the trainers and evaluations build from the corpora (not shipped)
"""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
CHECKPOINTS_DIR = PROJECT_ROOT / "checkpoints"
ASSETS_DIR = PROJECT_ROOT / "assets"
SOUNDFONTS_DIR = ASSETS_DIR / "soundfonts"
EXAMPLES_DIR = ASSETS_DIR / "examples"
DATA_CACHE_DIR = PROJECT_ROOT / "data_cache"
STYLE_CACHE = DATA_CACHE_DIR / "style_windows.npz"  # python -m engine.data style
ABC_CACHE = DATA_CACHE_DIR / "abc_tunes.jsonl"  # the labelled ABC tunes (python -m engine.train abc)
HARMONY_CACHE = DATA_CACHE_DIR / "harmony.npz"  # melodies with their chords, as slots (python -m engine.data harmony)

# The shipped checkpoint of each model family (the folder names under checkpoints/).
CHECKPOINT_FOLDERS = {
    "ec2vae": "ec2vae",
    "latent": "latent",
    "abc_emotion": "abc_emotion",
    "style_judge": "style_judge",
    "musae": "musae",
    "musae_vae": "musae_vae",
    "stylegan": "stylegan",
    "harmonizer": "harmonizer",
    "voice_infill": "voice_infill",
}


def default_checkpoint(family: str) -> Path:
    """The shipped checkpoint folder of a model family ("ec2vae", "latent", "abc_emotion", "style_judge", "musae",
    "musae_vae", "stylegan", "harmonizer", "voice_infill")."""
    if family not in CHECKPOINT_FOLDERS:
        raise KeyError(f"Unknown model family {family!r}: one of {', '.join(CHECKPOINT_FOLDERS)}")
    return CHECKPOINTS_DIR / CHECKPOINT_FOLDERS[family]
