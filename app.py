"""Launch the Cadenza studio: ``python app.py [--port 7860] [--checkpoint checkpoints/ec2vae]``."""

from __future__ import annotations

import argparse
import logging
import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Cadenza — controllable melody studio")
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: 127.0.0.1, this machine only)")
    parser.add_argument("--port", type=int, default=7860)
    parser.add_argument("--checkpoint", default="checkpoints/ec2vae", help='model folder, or "debug" for a tiny untrained model')
    parser.add_argument("--device", default="auto", help='"auto", "cpu", "cuda", ...')
    parser.add_argument("--no-warmup", action="store_true", help="skip the warm-up generation at start")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)

    from app.services import Studio
    from app.studio import build_studio, launch_kwargs
    from engine.device import use_single_cpu_thread

    use_single_cpu_thread()  # small step-by-step decodes run faster on one thread; the server keeps the other core

    try:
        studio = Studio.load(args.checkpoint, device=None if args.device == "auto" else args.device)
    except (FileNotFoundError, ValueError) as err:
        parser.exit(2, f"error: cannot load the model: {err}\n(train one first, or try the tiny untrained model with --checkpoint debug)\n")
    if not args.no_warmup:
        studio.warm_up()
    demo = build_studio(studio)
    demo.queue(default_concurrency_limit=1).launch(server_name=args.host, server_port=args.port, **launch_kwargs())


if __name__ == "__main__":
    main()
