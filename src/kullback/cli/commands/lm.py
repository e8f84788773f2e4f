"""``kullback lm``: compare a candidate language model's next-token distributions with a
reference's, over a text.

``kullback lm save MODEL --text FILE -o REF`` runs the reference model once and stores its
logits (exact, sharded safetensors); ``kullback lm compare REF CAND`` compares two stores or
model directories (a model needs ``--text``) and prints llama.cpp-style statistics: perplexity,
KL divergence (mean ± standard error, percentiles), Δp and top-token agreement.

Examples
--------
>>> from kullback.cli import main
>>> main(["lm", "compare", "no/such/store", "other"])  # error: on stderr
2
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from kullback.cli._errors import CLIError
from kullback.cli._format import emit, emit_json
from kullback.cli._options import unit

__all__ = ["DESCRIPTION", "HELP", "add_arguments", "run"]

HELP = "compare two language models' next-token distributions over a text (KL, PPL, Δp)"
DESCRIPTION = (
    "Compare a candidate language model (quantised, pruned, distilled, fine-tuned) with a "
    "reference, token by token: KL divergence both ways, JS, perplexities, Δp of the actual "
    "next token and top-token agreement, computed exactly in log space. 'save' stores a "
    "reference model's logits once; 'compare' takes stores or local transformers model "
    "directories (nothing is downloaded)."
)


def _model_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--text", metavar="FILE", help="the corpus, a UTF-8 text file (- for stdin)")
    p.add_argument("--context", type=int, metavar="N",
                   help="tokens per window (default: as the store was saved, else 512)")
    p.add_argument("--stride", type=int, metavar="N",
                   help="tokens between window starts (default: as the store was saved, "
                   "else context - 1)")
    p.add_argument("--batch-size", type=int, default=1, metavar="N",
                   help="windows per forward pass (default 1)")
    p.add_argument("--device", metavar="D", help="torch device for the models (default cpu)")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bar on stderr (default: when stderr is a terminal)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``kullback lm save`` and ``kullback lm compare``."""
    sub = parser.add_subparsers(dest="lm_command", metavar="ACTION")
    save = sub.add_parser("save", help="run a reference model over a text and store its logits",
                          description="Run MODEL over the text and store its logits in REF.")
    save.add_argument("MODEL", help="a local transformers causal-LM directory")
    save.add_argument("-o", "--output", required=True, metavar="REF",
                      help="the store to create (a new directory)")
    save.add_argument("--top-k", type=int, metavar="K",
                      help="store only the top-K log-probabilities and the tail mass (small; "
                      "KL from it is a guaranteed lower bound)")
    _model_options(save)
    cmp = sub.add_parser("compare", help="compare a candidate with a reference",
                         description="Compare CAND with REF (each a store made by 'kullback lm "
                         "save' or a local model directory; a model needs --text).")
    cmp.add_argument("REF", help="reference: a store or a model directory")
    cmp.add_argument("CAND", help="candidate: a store or a model directory")
    cmp.add_argument("--base", default="nats", metavar="B",
                     help="unit of KL and NLL: bits, nats, bans or a number > 1 (default nats)")
    cmp.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    cmp.add_argument("--plot", metavar="FILE",
                     help="also save a figure (.png, .svg, .pdf): KL per token (log scale), "
                     "Δp, agreement")
    cmp.add_argument("--worst", type=int, default=0, metavar="N",
                     help="also list the N tokens with the largest KL")
    _model_options(cmp)


def _read_text(spec: str | None, needed_by: str) -> str:
    if spec is None:
        raise CLIError(f"{needed_by} is a model directory: give the corpus with --text FILE")
    try:
        return sys.stdin.read() if spec == "-" else Path(spec).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CLIError(f"--text: cannot read {spec!r} ({exc})") from None


def _quiet_transformers() -> None:
    """transformers' own progress bars ("Loading weights") would interleave with ours."""
    from transformers.utils import logging

    logging.disable_progress_bar()
    logging.set_verbosity_error()


def _model_stream(path: Path, args: argparse.Namespace, name: str) -> Any:
    from kullback.lm import logits

    _quiet_transformers()
    return logits(path, path, _read_text(args.text, name), context=args.context or 512,
                  stride=args.stride, batch_size=args.batch_size, device=args.device)


def _windowing_of(store: Any, args: argparse.Namespace, name: str) -> None:
    """Run models with the context and stride the store was saved with: other windows would
    compare contexts, not models. An explicit different choice is refused."""
    saved = store.windowing or {}
    for option in ("context", "stride"):
        given, was = getattr(args, option), saved.get(option)
        if was is None:
            continue
        if given is not None and given != was:
            raise CLIError(f"--{option} {given}: {name} was saved with --{option} {was}; a "
                           "model run with other windows would differ by context, not model")
        setattr(args, option, was)


def _store(path: Path, args: argparse.Namespace, name: str) -> Any:
    from kullback.lm import open_logits

    return open_logits(path)


# what a directory holds -> how to read it
_SOURCES: dict[str, Callable[[Path, argparse.Namespace, str], Any]] = {
    "manifest.json": _store,
    "config.json": _model_stream,
}


def _source(spec: str, args: argparse.Namespace, name: str) -> Any:
    path = Path(spec)
    for marker, opener in _SOURCES.items():
        if (path / marker).is_file():
            return opener(path, args, name)
    raise CLIError(f"{name} {spec!r} is neither a logit store (manifest.json) nor a model "
                   "directory (config.json)")


@contextmanager
def _library_errors() -> Iterator[None]:
    try:
        yield
    except BrokenPipeError:
        raise
    except ImportError as exc:
        raise CLIError(f"kullback lm needs transformers, safetensors and tqdm: pip install "
                       f"'kullback[lm]' ({exc})") from None
    except (ValueError, TypeError, OSError) as exc:
        raise CLIError(str(exc)) from None


def _progress(args: argparse.Namespace) -> bool:
    return sys.stderr.isatty() if args.progress is None else bool(args.progress)


def _save(args: argparse.Namespace) -> None:
    from kullback.lm import save_logits

    model = Path(args.MODEL)
    if not (model / "config.json").is_file():
        raise CLIError(f"MODEL {args.MODEL!r} is not a model directory (no config.json)")
    stream = _model_stream(model, args, "MODEL")
    store = save_logits(args.output, stream, top_k=args.top_k, progress=_progress(args))
    emit([f"saved {store!r}"])


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {k: _jsonable(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_jsonable(v) for v in x]
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)  # "inf": strict JSON has no infinity
    return x


def _worst_lines(rows: list[dict[str, Any]], unit_name: str) -> list[str]:
    lines = ["", f"====== {len(rows)} tokens with the largest KL ({unit_name}) ======"]
    for r in rows:
        texts = " ".join(f"{k.removesuffix('_text')}={r[k]!r}" for k in r if k.endswith("_text"))
        ids = " ".join(f"{k}={r[k]}" for k in ("target", "top_reference", "top_candidate")
                       if k in r)
        lines.append(f"token {r['position']:>7}  KL {r['kl']:.6f}  {ids}  {texts}".rstrip())
    return lines


def _compare(args: argparse.Namespace) -> None:
    from kullback.lm import compare

    u = unit(args)
    stores = {name: _source(spec, args, name) for name, spec in (("REF", args.REF),
              ("CAND", args.CAND)) if (Path(spec) / "manifest.json").is_file()}
    for name, store in stores.items():
        _windowing_of(store, args, name)
    ref = stores.get("REF") or _source(args.REF, args, "REF")
    cand = stores.get("CAND") or _source(args.CAND, args, "CAND")
    result = compare(ref, cand, base=u.base if u.name != "nats" else None,
                     progress=_progress(args))
    worst = result.worst(args.worst) if args.worst > 0 else []
    if args.json:
        out = result.summary()
        if worst:
            out["worst"] = worst
        emit_json(_jsonable(out))
    else:
        emit([repr(result), *(_worst_lines(worst, result.unit) if worst else [])])
    if args.plot:
        try:
            result.plot(args.plot)
        except ImportError:
            raise CLIError("--plot needs matplotlib (pip install 'kullback[plot]')") from None
        except (OSError, ValueError) as exc:
            raise CLIError(f"--plot: cannot write {args.plot!r} ({exc})") from None
        if not args.json:
            emit(["", f"Plot saved to {args.plot}"])


_ACTIONS: dict[str, Callable[[argparse.Namespace], None]] = {"save": _save, "compare": _compare}


def run(args: argparse.Namespace) -> int:
    """Run ``kullback lm save`` or ``kullback lm compare``."""
    if args.lm_command is None:
        raise CLIError("choose an action: kullback lm save ... or kullback lm compare ...")
    with _library_errors():
        _ACTIONS[args.lm_command](args)
    return 0
