"""What every trainer shares, written once: its settings, its run folder, its launch and its command line.

* :class:`TrainConfig`: the fields every training config has. A trainer's config adds its own fields and embeds its
  model's config as ``model`` (:func:`model_field`, with the sizes training uses by default). The fields the data
  decides (styles, vocabulary, latent sizes, pitch ranges) are filled in when the model is built
  (:meth:`TrainConfig.model_config`), where ``debug`` swaps in the model config's ``debug()`` preset.
* :class:`ParallelTrainConfig` and :func:`launch`: the trainers that run data-parallel (engine.train.distributed).
* :class:`RunFolder`: a run's folder: the state a run resumes from (``train_state.pt``), its log (``train_log.jsonl``,
  one JSON row a line, appended) and its checkpoints (the best, and the last where a trainer keeps it), saved through
  engine.models.registry with the family's ``generation.json`` beside ``config.json``.
* :func:`add_config_options` and :func:`config_from_args`: a config's fields as command-line options, and back.
"""

from __future__ import annotations

import argparse
import json
import types
import typing
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import MISSING, Field, asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import torch

from engine.models.device import resolve_device
from engine.models.registry import SavableModel, save_model
from engine.pipelines.base import GENERATION_FILE, GenerationConfig
from engine.train.distributed import Rank, barrier, launched_by_torchrun, spawn, torchrun_context

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

M = TypeVar("M", bound="DataclassInstance")

STATE_FILE = "train_state.pt"
LOG_FILE = "train_log.jsonl"
LAST_FOLDER = "last"
STYLE_CACHE_HELP = "the style cache (python -m engine.data style)"  # the style trainers' data


# ------------------------------------------------------------------ settings
def model_field(factory: Callable[[], M], *, help: str, fixed: Sequence[str] = (), **options: dict[str, Any]) -> M:
    """A training config's ``model`` field: the model's config as ``factory`` builds it. Each of its fields becomes an
    option under its own name except the ``fixed`` ones (those the data decides); ``options`` gives a field its
    ``help``, another ``flag`` or ``choices``, e.g. ``kind={"flag": "baseline", "choices": ("musae", "vae")}``."""
    return field(default_factory=factory, metadata={"help": help, "fixed": tuple(fixed), "options": options})


@dataclass(kw_only=True)
class TrainConfig(Generic[M]):
    """The settings every trainer has; a trainer's config adds its own and its model's config as ``model``."""

    data: str | list[str] = field(metadata={"help": "the training data"})
    out: str = field(metadata={"help": "checkpoint folder"})
    epochs: int = field(default=10, metadata={"help": "epochs to train (a resumed run goes on up to this one)"})
    batch_size: int = field(default=64, metadata={"help": "examples per optimiser step"})
    lr: float = field(default=1e-3, metadata={"help": "learning rate"})
    transpose_low: int = field(default=-5, metadata={"help": "random transposition range in semitones (augmentation)"})
    transpose_high: int = 6
    device: str = field(default="auto", metadata={"help": "auto, cpu, cuda, cuda:1 ..."})
    resume: bool = field(default=False, metadata={"help": "continue from OUT/train_state.pt"})
    debug: bool = field(default=False, metadata={"help": "the model config's debug preset: a tiny model (for tests)"})
    seed: int = field(default=0, metadata={"help": "random seed"})
    model: M = field(metadata={"help": "the model's config"})

    def default_model(self) -> M:
        """The model config of this training config's defaults."""
        return typing.cast(M, _default_of(_field_named(type(self), "model")))

    def model_changes(self) -> dict[str, Any]:
        """The fields of ``model`` set to other values than the default model config's."""
        default = self.default_model()
        return {
            f.name: getattr(self.model, f.name)
            for f in fields(self.model)
            if getattr(self.model, f.name) != getattr(default, f.name)
        }

    def model_config(self, preset: M, **decided: Any) -> M:
        """The model config to build: ``model`` or, with ``debug``, the model config's debug ``preset`` with the fields
        ``model`` changes (:meth:`model_changes`); then the fields the data decides (``decided``)."""
        model = replace(preset, **self.model_changes()) if self.debug else self.model
        return replace(model, **decided)

    def record(self) -> dict[str, Any]:
        """The settings as config.json's "training" record: every field but ``model`` (config.json holds the model's
        config as "config")."""
        return {name: value for name, value in asdict(self).items() if name != "model"}


@dataclass(kw_only=True)
class ParallelTrainConfig(TrainConfig[M]):
    """The settings of a trainer that runs data-parallel (:func:`launch`)."""

    workers: int = field(default=2, metadata={"help": "processes for parsing files"})
    procs: int = field(
        default=1,
        metadata={
            "help": "data-parallel training processes on the CPU (torch.distributed, gloo); e.g. 2 on a 2-core "
            "machine, each with one thread"
        },
    )
    threads: int | None = field(
        default=None, metadata={"help": "torch threads per process (default: torch's choice; 1 with --procs > 1)"}
    )


def launch(
    cfg: ParallelTrainConfig[Any],
    load: Callable[[torch.device, bool], tuple[Any, ...]],
    train_rank: Callable[..., dict[str, Any]],
    summarise: Callable[[list[dict[str, Any]], tuple[Any, ...]], dict[str, Any]],
) -> dict[str, Any]:
    """Train alone, as ``cfg.procs`` CPU processes, or as one rank of a torchrun job (``torchrun --nnodes N
    --nproc_per_node M -m engine.train ...``). ``load(device, announce)`` reads the data (rank 0 first, so the others
    read what it cached), ``train_rank(cfg, *data, rank)`` trains one process; after spawned processes the result is
    ``summarise(the log's rows, data)``."""
    if launched_by_torchrun():
        with torchrun_context(cfg.device) as rank:
            if not rank.is_main:
                barrier(rank)
            data = load(rank.device, rank.is_main)
            if rank.is_main:
                barrier(rank)
            return train_rank(cfg, *data, rank)
    device = resolve_device(cfg.device)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    data = load(device, True)
    if cfg.procs > 1 and device.type == "cpu":
        spawn(train_rank, cfg.procs, (cfg, *data), threads=cfg.threads)
        return summarise(RunFolder(cfg.out).read_log(), data)
    return train_rank(cfg, *data, Rank(0, 1, device))


# ------------------------------------------------------------------ the run folder
class RunFolder:
    """A training run's folder (made if missing): the state it resumes from, its log and its checkpoints, saved as
    engine.models.registry's ``kind`` with ``generation`` (the family's sampling settings) as generation.json."""

    def __init__(self, path: str | Path, kind: str = "", generation: GenerationConfig | None = None) -> None:
        self.path = Path(path)
        self.kind = kind
        self.generation = generation
        self.path.mkdir(parents=True, exist_ok=True)

    @property
    def state_path(self) -> Path:
        """``train_state.pt``: what a resumed run starts from."""
        return self.path / STATE_FILE

    @property
    def log_path(self) -> Path:
        """``train_log.jsonl``: one JSON row a line."""
        return self.path / LOG_FILE

    def load_state(
        self, device: torch.device | str, resume: bool = True, announce: bool = False
    ) -> dict[str, Any] | None:
        """The state :meth:`save_state` wrote (tensors and plain values only: no pickle), when ``resume`` and there
        is one; else None. ``announce``: say so."""
        if not resume or not self.state_path.exists():
            return None
        state: dict[str, Any] = torch.load(self.state_path, map_location=device, weights_only=True)
        if announce:
            print(f"resumed from {self.state_path} at epoch {int(state['epoch'])}", flush=True)
        return state

    def save_state(self, state: dict[str, Any]) -> None:
        """Write the state a resumed run starts from."""
        torch.save(state, self.state_path)

    def log(self, row: dict[str, Any], echo: bool = False) -> None:
        """Append ``row`` to the log (``echo``: and print it)."""
        line = json.dumps(row)
        if echo:
            print(line, flush=True)
        with self.log_path.open("a") as log:
            log.write(line + "\n")

    def read_log(self) -> list[dict[str, Any]]:
        """The log's rows, oldest first."""
        if not self.log_path.exists():
            return []
        return [json.loads(line) for line in self.log_path.read_text().splitlines()]

    def save_best(self, model: SavableModel, metadata: dict[str, Any]) -> Path:
        """Save ``model`` as the run's checkpoint (its best epoch), in the folder itself."""
        return self._save(model, self.path, metadata)

    def save_last(self, model: SavableModel, metadata: dict[str, Any]) -> Path:
        """Save ``model`` in ``last/`` (the latest epoch, for the trainers that keep it beside the best)."""
        return self._save(model, self.path / LAST_FOLDER, metadata)

    def _save(self, model: SavableModel, directory: Path, metadata: dict[str, Any]) -> Path:
        save_model(model, self.kind, directory, metadata)
        # The family's sampling defaults complete the checkpoint; settings tuned by hand in a folder are kept.
        if self.generation is not None and not (directory / GENERATION_FILE).exists():
            self.generation.save(directory)
        return directory


# ------------------------------------------------------------------ the command line
@dataclass(frozen=True)
class _Option:
    """One command-line option of a config: its flag, argparse's keywords and the field(s) it sets."""

    flag: str
    kwargs: dict[str, Any]
    names: tuple[str, ...]  # one field, or the _low and _high of a pair
    nested: bool = False  # a field of the model's config
    convert: Callable[[Any], Any] | None = None

    @property
    def dest(self) -> str:
        return str(self.kwargs["dest"])


def add_config_options(parser: argparse.ArgumentParser, config_class: type) -> None:
    """One option per field of ``config_class``: ``--field-name`` (or the field's ``flag``), type, default and help
    (``field(metadata={"help": ...})``, or the same field's in a base class) from the field; bools as
    ``--x/--no-x``; lists and tuples as several values; ``choices`` from the metadata (a mapping: shown value -> the
    field's); a pair ``x_low``/``x_high`` as one ``--x LOW HIGH``; the model config's fields under their own names."""
    for option in _options(config_class):
        parser.add_argument(option.flag, **option.kwargs)


def config_from_args(config_class: type[Any], args: argparse.Namespace) -> Any:
    """The ``config_class`` that options made by :func:`add_config_options` describe (defaults where one is absent)."""
    values: dict[str, Any] = {}
    model: dict[str, Any] = {}
    for option in _options(config_class):
        if not hasattr(args, option.dest):
            continue
        value = getattr(args, option.dest)
        value = option.convert(value) if option.convert is not None else value
        target = model if option.nested else values
        if len(option.names) == 2:
            target[option.names[0]], target[option.names[1]] = value
        else:
            target[option.names[0]] = value
    if model:
        values["model"] = replace(_default_of(_field_named(config_class, "model")), **model)
    return config_class(**values)


def _options(config_class: type) -> Iterator[_Option]:
    hints = typing.get_type_hints(config_class)
    names = {f.name for f in fields(config_class)}
    model: tuple[Any, Mapping[str, Any]] | None = None
    for spec in fields(config_class):
        name, meta = spec.name, _metadata(config_class, spec.name)
        if name.endswith("_high") and f"{name[:-5]}_low" in names:
            continue  # given with its _low
        if name == "model" and "fixed" in meta:
            model = _default_of(spec), meta  # its options come last
            continue
        stem = name[:-4]
        if name.endswith("_low") and f"{stem}_high" in names:
            default = [_default_of(spec), _default_of(_field_named(config_class, f"{stem}_high"))]
            kwargs = {"dest": stem, "type": hints[name], "nargs": 2, "metavar": ("LOW", "HIGH"), "default": default}
            yield _Option(
                f"--{stem.replace('_', '-')}", {**kwargs, "help": meta.get("help", "")}, (name, f"{stem}_high")
            )
            continue
        option = _option(name, hints[name], _default_of(spec), meta, name)
        if option is None:
            raise TypeError(f"{config_class.__name__}.{name}: no command-line option for {hints[name]}")
        yield option
    if model is not None:
        yield from _model_options(*model)


def _model_options(model: Any, meta: Mapping[str, Any]) -> Iterator[_Option]:
    hints = typing.get_type_hints(type(model))
    for spec in fields(model):
        if spec.name in meta["fixed"]:
            continue
        extra = meta["options"].get(spec.name, {})
        option = _option(spec.name, hints[spec.name], getattr(model, spec.name), extra, f"model.{spec.name}")
        if option is not None:  # a type the command line cannot give (e.g. a nested list) stays as configured
            if "type" in option.kwargs:  # e.g. --z-dims Z_DIMS, --gen-widths N N N N
                option.kwargs["metavar"] = "N" if isinstance(option.kwargs.get("nargs"), int) else spec.name.upper()
            yield replace(option, nested=True)


def _option(name: str, hint: Any, default: Any, meta: Mapping[str, Any], dest: str) -> _Option | None:
    flag = "--" + meta.get("flag", name.replace("_", "-"))
    kwargs: dict[str, Any] = {"dest": dest, "help": meta.get("help", "")}
    if default is MISSING:
        kwargs["required"] = True
    else:
        kwargs["default"] = default
    kind, args = typing.get_origin(hint), typing.get_args(hint)
    if kind in (typing.Union, types.UnionType) and type(None) in args and len(args) == 2:
        hint = next(a for a in args if a is not type(None))  # optional: None is the default only
        kind, args = typing.get_origin(hint), typing.get_args(hint)
    choices = meta.get("choices")
    convert = None
    if isinstance(choices, Mapping):  # shown value -> the field's value
        shown = {value: key for key, value in choices.items()}
        kwargs.update(choices=list(choices), default=shown.get(default, default))
        convert = choices.__getitem__
    elif hint is bool:
        kwargs["action"] = argparse.BooleanOptionalAction
    elif kind in (list, tuple) and args and args[0] in (int, float, str):
        many = kind is list or Ellipsis in args
        kwargs.update(type=args[0], nargs="+" if many else len(args))
        convert = tuple if kind is tuple else list
    elif hint in (int, float, str):
        kwargs["type"] = hint
        if choices is not None:
            kwargs["choices"] = list(choices)
    else:
        return None
    return _Option(flag, kwargs, (name,), convert=convert)


def _metadata(config_class: type, name: str) -> Mapping[str, Any]:
    """A field's metadata, from the nearest class that gives it any (a config changing a default keeps the help)."""
    for klass in config_class.__mro__:
        spec: Field[Any] | None = getattr(klass, "__dataclass_fields__", {}).get(name)
        if spec is not None and spec.metadata:
            return spec.metadata
    return {}


def _field_named(config_class: type, name: str) -> Field[Any]:
    return next(spec for spec in fields(config_class) if spec.name == name)


def _default_of(spec: Field[Any]) -> Any:
    """A field's default (built by its factory), or MISSING."""
    if spec.default is not MISSING:
        return spec.default
    if spec.default_factory is not MISSING:
        return spec.default_factory()
    return MISSING
