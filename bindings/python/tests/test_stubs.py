"""The .pyi stubs describe the native module exactly: same names, same
parameters (names, kinds, defaults), same properties."""

import ast
import inspect
import pathlib

import fenrun
import fenrun._fenrun as native

STUB = pathlib.Path(fenrun.__file__).with_name("_fenrun.pyi")
# Names the stubs define for type checkers only.
ALIASES = {"PathLike", "Document", "TableLike", "TableName", "Profile", "Summary", "TYPE_CHECKING"}


def stub_tree():
    return ast.parse(STUB.read_text())


def params(fn: ast.FunctionDef):
    a = fn.args
    out = []
    positional = a.posonlyargs + a.args
    defaults = [None] * (len(positional) - len(a.defaults)) + a.defaults
    for arg, d in zip(positional, defaults):
        if arg.arg != "self":
            out.append((arg.arg, "POSITIONAL_OR_KEYWORD", None if d is None else ast.literal_eval(d)))
    for arg, d in zip(a.kwonlyargs, a.kw_defaults):
        out.append((arg.arg, "KEYWORD_ONLY", None if d is None else ast.literal_eval(d)))
    return out


def runtime_params(obj):
    out = []
    for p in inspect.signature(obj).parameters.values():
        if p.name == "self":
            continue
        default = None if p.default is inspect.Parameter.empty else p.default
        kind = "POSITIONAL_OR_KEYWORD" if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) else p.kind.name
        out.append((p.name, kind, default))
    return out


def test_stub_names_match_the_module():
    tree = stub_tree()
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.If):  # `if TYPE_CHECKING:` imports
            continue
        elif isinstance(node, ast.AnnAssign):
            names.add(node.target.id)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets)
    public = {n for n in dir(native) if not n.startswith("_") or n == "__version__"}
    assert names - ALIASES == public
    assert set(fenrun.__all__) == public


def test_stub_signatures_match_the_runtime():
    checked = 0
    for node in stub_tree().body:
        if isinstance(node, ast.FunctionDef):
            assert params(node) == runtime_params(getattr(native, node.name)), node.name
            checked += 1
        if isinstance(node, ast.ClassDef) and node.name not in ALIASES:
            cls = getattr(native, node.name)
            stub_members = set()
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name == "__init__":
                    # The constructor's signature is the class's.
                    assert params(item) == runtime_params(cls), f"{node.name}()"
                    checked += 1
                elif isinstance(item, ast.FunctionDef) and item.name.startswith("__"):
                    assert inspect.getattr_static(cls, item.name), f"{node.name}.{item.name}"
                elif isinstance(item, ast.FunctionDef):
                    stub_members.add(item.name)
                    attr = inspect.getattr_static(cls, item.name)
                    is_property = any(isinstance(d, ast.Name) and d.id == "property" for d in item.decorator_list)
                    if is_property:
                        assert inspect.isdatadescriptor(attr), f"{node.name}.{item.name} is not a property"
                    else:
                        assert params(item) == runtime_params(getattr(cls, item.name)), f"{node.name}.{item.name}"
                    checked += 1
            if not issubclass(cls, BaseException):
                runtime = {n for n in vars(cls) if not n.startswith("__")}
                assert stub_members == runtime, node.name
    assert checked >= 20
