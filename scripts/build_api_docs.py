"""The API reference: one Markdown page per mitkit module, a heading per public function, class and method.

    python scripts/build_api_docs.py          # writes docs/api/*.md (committed; a test checks they are current)

Notebook links point at these headings (``../docs/api/mitkit.note_creation.md#create_notes``): JupyterLab opens
the page in its Markdown viewer scrolled to the function, which a link to the ``.py`` file cannot do (it
opens at the top). Each entry holds the signature, the docstring as written and a link to the source file.
Run it after changing a public docstring or signature.
"""
from __future__ import annotations

import argparse
import importlib
import inspect
import pkgutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "api"
# modules whose import needs an optional extra that a docs build should not require
SKIP = {"mitkit.__main__"}


def modules() -> list[str]:
    import mitkit
    names = ["mitkit"] + [m.name for m in pkgutil.walk_packages(mitkit.__path__, "mitkit.")]
    return sorted(n for n in names if n not in SKIP and not n.rsplit(".", 1)[-1].startswith("_"))


def public_members(module) -> list[tuple[str, object]]:
    """Functions and classes defined in ``module`` (not imported into it), in source order."""
    out = []
    for name, obj in vars(module).items():
        if name.startswith("_") or not (inspect.isfunction(obj) or inspect.isclass(obj)):
            continue
        if getattr(obj, "__module__", None) != module.__name__:
            continue
        out.append((name, obj))
    return sorted(out, key=lambda item: _line(item[1]))


def _line(obj) -> int:
    try:
        return inspect.getsourcelines(obj)[1]
    except (OSError, TypeError):
        return 0


def _signature(name: str, obj) -> str:
    try:
        return f"{name}{inspect.signature(obj)}"
    except (TypeError, ValueError):
        return name


def _doc(obj) -> str:
    doc = inspect.getdoc(obj) or "(no docstring)"
    return "```text\n" + doc.replace("```", "'''") + "\n```\n"


def _source(path: str) -> str:
    # no line number: an edit above a function would make every page below it stale
    return f"Source: [`{path}`](../../{path})\n"


def methods(cls) -> list[tuple[str, object]]:
    """Public methods and properties defined by ``cls`` itself, in source order."""
    out = []
    for name, obj in vars(cls).items():
        if name.startswith("_"):
            continue
        fn = obj.fget if isinstance(obj, property) else getattr(obj, "__func__", obj)
        if inspect.isfunction(fn):
            out.append((name, fn))
    return sorted(out, key=lambda item: _line(item[1]))


def page(module_name: str) -> str:
    module = importlib.import_module(module_name)
    path = Path(module.__file__).relative_to(ROOT).as_posix()
    members = public_members(module)
    lines = [f"# {module_name}\n", _doc(module), _source(path)]
    if members:
        lines.append("Contents: " + " · ".join(f"[{name}](#{name})" for name, _ in members) + "\n")
    for name, obj in members:
        kind = "class" if inspect.isclass(obj) else "function"
        lines += [f"## {name}\n", f"```python\n{kind} {_signature(name, obj)}\n```\n", _doc(obj), _source(path)]
        if inspect.isclass(obj):
            for meth, fn in methods(obj):
                lines += [f"### {name}.{meth}\n", f"```python\n{_signature(meth, fn)}\n```\n", _doc(fn), _source(path)]
    return "\n".join(lines)


def build() -> dict[str, str]:
    """Every page as {file name: Markdown text}."""
    return {f"{name}.md": page(name) for name in modules()}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=OUT)
    args = p.parse_args(argv)
    pages = build()
    args.out.mkdir(parents=True, exist_ok=True)
    for old in args.out.glob("*.md"):
        if old.name not in pages:
            old.unlink()
    for name, text in pages.items():
        (args.out / name).write_text(text)
    print(f"{len(pages)} pages in {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
