"""The series runner: execute the course's notebooks headless with papermill.

Usage::

    python -m utils.runner                          # every notebook, default profile, into runs/default/
    python -m utils.runner --profile smoke          # tiny settings: checks that everything runs
    python -m utils.runner --profile full --only 01 02
    python -m utils.runner -p seed 7 --out /tmp/run # free overrides on top of a profile
    python -m utils.runner --list                   # notebooks and the values each profile gives them

Profiles live in ``notebooks/profiles.toml``: for each profile and notebook, the values given to the
notebook's ``parameters`` cell (papermill injects them after it). ``default`` gives none but ``profile``:
the notebooks' own settings, which are what their committed outputs show. A value for a name the
notebook's ``parameters`` cell does not define is an error here (papermill alone would only warn).

Executed copies go to ``--out`` (never over the sources), each notebook runs with that folder as its
working directory (so anything a notebook writes lands there), an HTML copy of each is written beside
it, and ``index.html`` links them all. The exit status is non-zero if any notebook failed.
"""

from __future__ import annotations

import argparse
import ast
import html
import sys
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
PROFILES_FILE = NOTEBOOKS / "profiles.toml"
PROFILE_NAMES = ("smoke", "default", "full")

__all__ = ["notebook_paths", "load_profiles", "notebook_parameters", "plan", "run_series", "main"]


@dataclass
class Result:
    """How one notebook's run went."""

    notebook: str
    status: str = "pending"
    minutes: float = 0.0
    error: str = ""
    parameters: dict = field(default_factory=dict)


def notebook_paths(only: list[str] | None = None) -> list[Path]:
    """The numbered notebooks, sorted; ``only`` selects by number prefix ("01") or full stem."""
    paths = sorted(p for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    if not only:
        return paths
    chosen = []
    for key in only:
        matches = [p for p in paths if p.stem == key or p.stem.split("_", 1)[0] == key or p.name == key]
        if not matches:
            raise SystemExit(f"--only {key}: no notebook matches; there are: {', '.join(p.stem for p in paths)}")
        chosen.extend(m for m in matches if m not in chosen)
    return chosen


def load_profiles() -> dict[str, dict[str, dict]]:
    """``{profile: {notebook number: {name: value}}}`` from profiles.toml (every profile present)."""
    path = PROFILES_FILE
    data = tomllib.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    unknown = set(data) - set(PROFILE_NAMES)
    if unknown:
        raise SystemExit(f"{path}: unknown profile(s) {sorted(unknown)}; profiles are {', '.join(PROFILE_NAMES)}")
    return {name: data.get(name, {}) for name in PROFILE_NAMES}


def notebook_parameters(path: Path) -> dict:
    """The names and default values of a notebook's ``parameters`` cell (exactly one cell must carry the tag)."""
    import nbformat
    import papermill

    nb = nbformat.read(path, as_version=4)
    tagged = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    if len(tagged) != 1:
        raise SystemExit(f"{path.name}: {len(tagged)} cells are tagged 'parameters'; papermill needs exactly one")
    return {name: spec["default"] for name, spec in papermill.inspect_notebook(str(path)).items()}


def _parse_value(text: str):
    """A -p value: Python literal when it parses (3, 0.5, True, 'x', [1, 2]), else the string itself."""
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def plan(paths: list[Path], profile: str, overrides: dict) -> dict[Path, dict]:
    """The parameters each notebook gets: profile values, then overrides; every name checked."""
    profiles = load_profiles()
    if profile not in profiles:
        raise SystemExit(f"--profile {profile}: profiles are {', '.join(PROFILE_NAMES)}")
    table = profiles[profile]
    known_keys = {p.stem.split("_", 1)[0] for p in notebook_paths()}
    stray = set(table) - known_keys
    if stray:
        raise SystemExit(f"{PROFILES_FILE.name}: [{profile}] names notebooks that do not exist: {sorted(stray)}")
    used_overrides: set[str] = set()
    result = {}
    for path in paths:
        declared = notebook_parameters(path)
        values = {"profile": profile} if "profile" in declared else {}
        for name, value in table.get(path.stem.split("_", 1)[0], {}).items():
            if name not in declared:
                raise SystemExit(f"{PROFILES_FILE.name}: [{profile}] gives {path.stem} a value for {name!r}, "
                                 f"which its parameters cell does not define ({', '.join(declared)})")
            values[name] = value
        for name, value in overrides.items():
            if name in declared:
                values[name] = value
                used_overrides.add(name)
        result[path] = values
    unused = set(overrides) - used_overrides
    if unused:
        raise SystemExit(f"-p {', '.join(sorted(unused))}: no selected notebook has such a parameter")
    return result


def _write_index(out: Path, results: list[Result], profile: str) -> Path:
    rows = []
    for r in results:
        stem = Path(r.notebook).stem
        params = html.escape(", ".join(f"{k}={v!r}" for k, v in r.parameters.items()))
        rows.append(f"<tr class='{r.status}'><td><a href='{stem}.html'>{stem}</a> "
                    f"(<a href='{stem}.ipynb'>ipynb</a>)</td><td>{r.status}</td><td>{r.minutes:.1f}</td>"
                    f"<td><code>{params}</code></td><td>{html.escape(r.error)}</td></tr>")
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>Course run: {profile}</title>
<style>body{{font-family:sans-serif;margin:2em}} td,th{{padding:.3em .8em;border-bottom:1px solid #ddd}}
.failed td{{background:#fdd}} .ok td:nth-child(2){{color:#070}}</style></head><body>
<h1>Deep learning for medical image steganography and encryption</h1>
<p>Profile <b>{profile}</b>, run {time.strftime('%Y-%m-%d %H:%M')}.</p>
<table><tr><th>notebook</th><th>status</th><th>minutes</th><th>parameters</th><th>error</th></tr>
{''.join(rows)}</table></body></html>"""
    index = out / "index.html"
    index.write_text(page, encoding="utf-8")
    return index


def _to_html(executed: Path) -> None:
    import nbformat
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter().from_notebook_node(nbformat.read(executed, as_version=4))
    executed.with_suffix(".html").write_text(body, encoding="utf-8")


def run_series(profile: str = "default", only: list[str] | None = None, overrides: dict | None = None,
               out: Path | None = None, timeout: int | None = None, progress: bool = True) -> list[Result]:
    """Execute the selected notebooks; returns one :class:`Result` each (see the module docstring)."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    paths = notebook_paths(only)
    if not paths:
        raise SystemExit(f"no notebooks in {NOTEBOOKS}")
    out = Path(out or ROOT / "runs" / profile).resolve()
    if out == NOTEBOOKS.resolve() or NOTEBOOKS.resolve() in out.parents:
        raise SystemExit(f"--out {out} is inside the notebook sources; choose another folder (default runs/<profile>)")
    out.mkdir(parents=True, exist_ok=True)
    parameters = plan(paths, profile, overrides or {})
    results = []
    for i, path in enumerate(paths, 1):
        result = Result(path.name, parameters=parameters[path])
        print(f"[{i}/{len(paths)}] {path.stem}  profile={profile}  {result.parameters}", flush=True)
        target = out / path.name
        start = time.perf_counter()
        try:
            papermill.execute_notebook(str(path), str(target), parameters=result.parameters, kernel_name="python3",
                                       cwd=str(out), progress_bar=progress, execution_timeout=timeout)
            result.status = "ok"
        except PapermillExecutionError as exc:
            result.status, result.error = "failed", f"cell {exc.exec_count}: {exc.ename}: {exc.evalue}"
        except Exception as exc:  # kernel died, timeout, unreadable notebook: report and go on
            result.status, result.error = "failed", f"{type(exc).__name__}: {exc}"
        result.minutes = (time.perf_counter() - start) / 60.0
        if target.exists():
            try:
                _to_html(target)
            except Exception as exc:
                result.error += f" (HTML export failed: {exc})"
        print(f"    {result.status} in {result.minutes:.1f} min {result.error}", flush=True)
        results.append(result)
    index = _write_index(out, results, profile)
    width = max(len(Path(r.notebook).stem) for r in results)
    print(f"\n{'notebook':<{width}}  status  minutes")
    for r in results:
        print(f"{Path(r.notebook).stem:<{width}}  {r.status:<6}  {r.minutes:7.1f}")
    print(f"\nexecuted notebooks and {index.name}: {out}")
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m utils.runner", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", choices=PROFILE_NAMES, default="default",
                        help="settings from notebooks/profiles.toml (default: the notebooks' own)")
    parser.add_argument("--only", nargs="+", metavar="NN", help="run only these notebooks (number or name)")
    parser.add_argument("-p", nargs=2, action="append", metavar=("NAME", "VALUE"), default=[],
                        help="override a parameter in every selected notebook that defines it")
    parser.add_argument("--out", type=Path, help="folder for executed notebooks (default: runs/<profile>)")
    parser.add_argument("--timeout", type=int, default=None, help="seconds allowed per cell (default: none)")
    parser.add_argument("--no-progress", action="store_true", help="no per-cell progress bar")
    parser.add_argument("--list", action="store_true", help="list notebooks and their parameters, run nothing")
    args = parser.parse_args(argv)
    overrides = {name: _parse_value(value) for name, value in args.p}
    if args.list:
        for path, values in plan(notebook_paths(args.only), args.profile, overrides).items():
            print(f"{path.stem}: defaults {notebook_parameters(path)}; {args.profile} gives {values}")
        return 0
    results = run_series(args.profile, args.only, overrides, args.out, args.timeout, not args.no_progress)
    failed = [r for r in results if r.status != "ok"]
    if failed:
        print(f"{len(failed)} notebook(s) failed: {', '.join(r.notebook for r in failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
