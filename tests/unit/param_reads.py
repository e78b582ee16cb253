"""Static scan of the parameter keys a module's code reads, for tests/unit/test_stage_inputs.py.

Parameters are read through one `Params` object, always named `params` in the package. The scan
follows, inside each function, what a name was bound to (`ev = params.section("evaluate")`, then
`ev["batch_size"]`) and records the dotted key of every read: a subscript or `.get` with a constant
key extends the path; any other use (a call argument, `.items()`, a computed subscript) reads the
whole value at that path. So a sub-dict handed to a helper counts as read whole: over-, never
under-reporting for the forms below.

Limits: a `Params` object under another name, stored in an attribute or a container, or a parameter
value carried across functions other than as an argument, is not followed; `params.hash` and
`params.section_hash` (provenance records) are not counted as reads.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = "params"
# Params accessors -> the key they read
ATTRS = {"raw": "", "experiment": "experiment", "results_dir": "experiment.results_dir",
         "models": "experiment.models", "conditions": "experiment.conditions",
         "seeds": "experiment.seeds", "benchmarks": "data.benchmarks"}
CALLS = {"model": "models.{model}", "condition": "conditions.{condition}", "benchmark": "data.benchmarks",
         "train": "train"}
# reads a call makes besides the path it returns
CALL_ALSO = {"train": ("models.{model}.train", "conditions.{condition}.train"),
             "runs": ("experiment.models", "experiment.conditions", "experiment.seeds"),
             "label_kinds_needed": ("experiment.conditions", "conditions")}
NOT_READS = {"hash", "section_hash", "path"}
_SKIP = object()


def _join(base: str, key: str) -> str:
    return f"{base}.{key}" if base else key


class _Scanner:
    def __init__(self) -> None:
        self.reads: set[str] = set()

    def path(self, node: ast.AST, env: dict[str, object]):
        """The key path an expression evaluates to, _SKIP, or None when it is not a parameter value."""
        if isinstance(node, ast.Name):
            return "" if node.id == ROOT else env.get(node.id)
        if isinstance(node, ast.Attribute):
            if isinstance(node.value, ast.Name) and node.value.id == ROOT:
                if node.attr in NOT_READS:
                    return _SKIP
                return ATTRS.get(node.attr)
            return None
        if isinstance(node, ast.Subscript):
            base = self.path(node.value, env)
            if isinstance(base, str) and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str):
                return _join(base, node.slice.value)
            return None
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner, meth = node.func.value, node.func.attr
            if isinstance(owner, ast.Name) and owner.id == ROOT:
                if meth in NOT_READS:
                    return _SKIP
                self.reads.update(CALL_ALSO.get(meth, ()))
                if meth == "section" and node.args and isinstance(node.args[0], ast.Constant):
                    return node.args[0].value
                if meth == "runs" or meth == "label_kinds_needed":
                    return _SKIP
                return CALLS.get(meth)
            base = self.path(owner, env)
            if (meth == "get" and isinstance(base, str) and node.args and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)):
                return _join(base, node.args[0].value)
        return None

    def _extends(self, parent: ast.AST, child: ast.AST, env) -> bool:
        """Whether parent turns child's path into a longer one (then child itself is not read)."""
        if isinstance(parent, ast.Subscript) and parent.value is child:
            return isinstance(self.path(parent, env), str)
        if isinstance(parent, ast.Attribute) and parent.value is child:
            return True  # a method: the Call above decides
        return False

    def scan_function(self, fn: ast.AST) -> None:
        env: dict[str, object] = {}
        bound: set[int] = set()
        for node in ast.walk(fn):
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                pairs = [(node.targets[0], node.value)]
                if isinstance(node.targets[0], ast.Tuple) and isinstance(node.value, ast.Tuple):
                    pairs = list(zip(node.targets[0].elts, node.value.elts))
                for target, value in pairs:
                    p = self.path(value, env)
                    if isinstance(target, ast.Name) and isinstance(p, str) and target.id != ROOT:
                        env[target.id] = p
                        bound.add(id(value))
        parents = {id(c): p for p in ast.walk(fn) for c in ast.iter_child_nodes(p)}
        for node in ast.walk(fn):
            if id(node) in bound or isinstance(node, ast.Name) and node.id == ROOT:
                continue
            p = self.path(node, env)
            if not isinstance(p, str):
                continue
            parent = parents.get(id(node))
            if parent is not None and self._extends(parent, node, env):
                if isinstance(parent, ast.Attribute):
                    call = parents.get(id(parent))
                    if isinstance(call, ast.Call) and isinstance(self.path(call, env), str):
                        continue
                else:
                    continue
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                continue
            self.reads.add(p)


def reads(path: Path) -> set[str]:
    """Every parameter key the functions of this source file read."""
    scanner = _Scanner()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            scanner.scan_function(node)
    return scanner.reads
