"""The command line: ``python -m utils.benchmark`` (its options: ``--help``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .resumable import retime, run

__all__ = ["main"]


def main(argv=None) -> int:
    from ..runtime import portable_command

    parser = argparse.ArgumentParser(prog="python -m utils.benchmark", description=_description())
    parser.add_argument("--out", type=Path, required=True, help="folder for results.csv, results.md, results.json, figures")
    parser.add_argument("--data", default="auto", help="'auto' (real datasets when present), 'corpus', or dataset names")
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--n", type=int, default=None, help="test images (default: 16 per test source image)")
    parser.add_argument("--methods", nargs="*", default=None, help="names, or the groups all and ciphers (default: all, every cipher, the control and every hider)")
    parser.add_argument("--attack-k", type=int, default=64)
    parser.add_argument("--attack-steps", type=int, default=300)
    parser.add_argument("--game-n", type=int, default=256, help="attacker's images for the real-or-random game")
    parser.add_argument("--game-steps", type=int, default=300, help="training steps of the game's distinguisher")
    parser.add_argument("--timing-rounds", type=int, default=5)
    parser.add_argument("--inversion-steps", type=int, default=None,
                        help="Adam steps of SAAE's encoder inversion (default: the cipher's own, 200)")
    parser.add_argument("--timing-only", action="store_true",
                        help="time the methods of the finished run in --out again and rewrite its speed columns")
    parser.add_argument("--extend", action="store_true",
                        help="keep the rows of the finished run in --out (same settings) and measure only the "
                             "--methods it lacks; then time every method again, interleaved")
    parser.add_argument("--quick", action="store_true",
                        help="CI-sized: 16 images, k = 8, 10 attack steps, a 20-step game on 32 images, 2 timing rounds")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.quick:
        args.n, args.attack_k, args.attack_steps = args.n or 16, 8, 10
        args.game_n, args.game_steps, args.timing_rounds = 32, 20, 2
    data = args.data if args.data in ("auto", "corpus") else args.data.split(",")
    try:
        if args.timing_only:
            rows = retime(args.out, data, args.seed, args.timing_rounds)
            print((args.out / "results.md").read_text())
            return 0
        rows = run(args.out, args.methods, args.size, args.n, data, args.attack_k, args.attack_steps, args.seed,
                   game_n=args.game_n, game_steps=args.game_steps, timing_rounds=args.timing_rounds,
                   inversion_steps=args.inversion_steps, extend=args.extend,
                   command=portable_command("python -m utils.benchmark", sys.argv[1:] if argv is None else argv))
    except (KeyError, ValueError, FileNotFoundError) as exc:
        print(f"python -m utils.benchmark: {exc}", file=sys.stderr)
        return 2
    print((args.out / "results.md").read_text())
    return 0 if rows else 1


def _description() -> str:
    from . import __doc__ as package_doc

    return package_doc.split("\n\n")[0]
