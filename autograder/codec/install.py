"""Ship the codec into a process where ``autograder`` is not importable, as a private package.

The grader calls ``sources()`` for the text of the codec's modules, ``{module name: source}``,
and sends that mapping, with this file's own text, into the sandboxed kernel. There this file
is run in a fresh namespace and ``install(package, sources)`` builds the package under the
private name ``package`` in ``sys.modules``: a finder that answers for that name alone serves
each module from its text, so the codec's relative imports work as they do in the grader, in
whatever order the modules import each other. All the modules are imported before ``install``
returns, and the finder is then removed. Nothing is read from disk in the kernel.

This module is not part of the codec (the codec never imports it); it needs only the standard
library, and ``install`` reads nothing but its arguments.
"""

import importlib
import importlib.util
import sys
import types

#: The codec's modules, in the order they are shipped. ``__init__`` is the package itself.
MODULES = (
    "__init__",
    "wire",
    "scan",
    "encode_values",
    "decode_values",
    "frames",
    "encoding",
    "decoding",
)


def sources() -> dict[str, str]:
    """The text of each module of ``autograder.codec``, read from the grader's copy."""
    from pathlib import Path

    folder = Path(__file__).parent
    return {name: (folder / f"{name}.py").read_text(encoding="utf-8") for name in MODULES}


class _SourceLoader:
    def __init__(self, source: str) -> None:
        self.source = source

    def create_module(self, spec: object) -> None:
        return None  # the default module object

    def exec_module(self, module: types.ModuleType) -> None:
        code = compile(self.source, f"<nngrade codec {module.__name__}>", "exec")
        exec(code, module.__dict__)


class _SourceFinder:
    """Finds ``package`` and ``package.<module>`` in the mapping, and nothing else."""

    def __init__(self, package: str, sources: dict[str, str]) -> None:
        self.package = package
        self.sources = sources

    def find_spec(self, fullname: str, path: object = None, target: object = None) -> object:
        if fullname == self.package:
            module = "__init__"
        elif fullname.startswith(self.package + "."):
            module = fullname[len(self.package) + 1 :]
            if module == "__init__":
                return None  # the package itself is only reached by its own name
        else:
            return None
        if module not in self.sources:
            return None
        loader = _SourceLoader(self.sources[module])
        return importlib.util.spec_from_loader(fullname, loader, is_package=module == "__init__")


def install(package: str, sources: dict[str, str]) -> types.ModuleType:
    """Build the package ``package`` from ``{module name: source}`` and return it.

    Any module already in ``sys.modules`` under that name, or under a name inside it, is
    replaced. ``sources`` must hold ``"__init__"``.
    """
    sources = dict(sources)
    if "__init__" not in sources:
        raise ValueError("the sources of a package need an __init__")
    # tuple() copies the names in one step: the kernel's other threads (ipykernel's own,
    # TensorFlow's) may import while this runs, and iterating sys.modules itself would then
    # raise "dictionary changed size during iteration".
    for name in [n for n in tuple(sys.modules) if n == package or n.startswith(package + ".")]:
        sys.modules.pop(name, None)
    finder = _SourceFinder(package, sources)
    sys.meta_path.insert(0, finder)
    try:
        module = importlib.import_module(package)
        for name in sources:
            if name != "__init__":
                importlib.import_module(f"{package}.{name}")
    finally:
        sys.meta_path.remove(finder)
    return module
