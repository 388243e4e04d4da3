"""A mypy plugin: class-level access to an entity's field is a typed field path.

At runtime ``Order.total`` is a :class:`~singletable.conditions.FieldPath` (see
:func:`~singletable.conditions.install_field_paths`), but mypy reads the class body
and sees the field's type, ``Decimal``, so ``Order.total > 100`` would be a
``bool``. With this plugin mypy sees ``FieldPath[Decimal]`` and checks the
operators: ``Order.total > 100`` is a ``Condition``, ``Order.total > "x"`` an
error. Nested access is typed too: ``Order.address.city`` is ``FieldPath[str]``
when ``address`` is a Pydantic model with a ``city: str`` field, and a field
that does not exist is reported.

Enable it in the mypy configuration::

    [tool.mypy]
    plugins = ["singletable.mypy"]

The field type loses ``None`` (``note: str | None`` gives ``FieldPath[str]``):
a None field is not stored, so conditions compare with values and use
``.not_exists()`` for absence. Without the plugin, wrap the access:
``field_path(Order.total) > 100`` has the same static type.

A field is an explicitly annotated, non-``ClassVar`` attribute whose name does not
start with ``_``, declared in a Pydantic model class, accessed on a subclass of
``singletable.entity.Entity``; every other class attribute keeps mypy's type.
"""

from __future__ import annotations

from collections.abc import Callable

from mypy.nodes import MypyFile, TypeInfo, Var
from mypy.plugin import AttributeContext, Plugin
from mypy.types import (
    AnyType,
    CallableType,
    Instance,
    NoneType,
    ProperType,
    Type,
    TypeOfAny,
    TypeType,
    UnionType,
    get_proper_type,
)

__all__ = ["SingletablePlugin", "plugin"]

ENTITY = "singletable.entity.Entity"
BASE_MODEL = "pydantic.main.BaseModel"
FIELD_PATH = "singletable.conditions.FieldPath"


def _without_none(typ: Type) -> Type:
    proper = get_proper_type(typ)
    if isinstance(proper, UnionType):
        items = [i for i in proper.items if not isinstance(get_proper_type(i), NoneType)]
        if len(items) == 1:
            return items[0]
        if len(items) != len(proper.items):
            return UnionType.make_union(items)
    return typ


def _field_var(info: TypeInfo, name: str) -> Var | None:
    """The Var of a Pydantic field ``name`` of ``info`` (None if it is not a field)."""
    if name.startswith("_"):
        return None
    node = info.get(name)
    if node is None or not isinstance(node.node, Var):
        return None
    var = node.node
    if var.is_classvar or var.is_inferred or var.info is None:
        return None
    if not var.info.has_base(BASE_MODEL) or var.info.fullname == BASE_MODEL:
        return None
    return var


def _class_info(typ: ProperType) -> TypeInfo | None:
    """The class of ``Order`` in ``Order.total`` (a type object or ``type[Order]``)."""
    if isinstance(typ, CallableType) and typ.is_type_obj():
        return typ.type_object()
    if isinstance(typ, TypeType) and isinstance(typ.item, Instance):
        return typ.item.type
    return None


def _field_path_type(plugin: Plugin, value: Type) -> Type:
    # named_generic_type() resolves through the package's names, where a submodule
    # appears only once something imports it; the plugin's lookup goes by module.
    symbol = plugin.lookup_fully_qualified(FIELD_PATH)
    if symbol is None or not isinstance(symbol.node, TypeInfo):
        return AnyType(TypeOfAny.special_form)
    return Instance(symbol.node, [_without_none(value)])


def _class_attribute(plugin: Plugin, name: str) -> Callable[[AttributeContext], Type]:
    def hook(ctx: AttributeContext) -> Type:
        if ctx.is_lvalue:
            return ctx.default_attr_type
        info = _class_info(ctx.type)
        if info is None or not info.has_base(ENTITY) or _field_var(info, name) is None:
            return ctx.default_attr_type
        return _field_path_type(plugin, ctx.default_attr_type)

    return hook


def _member_attribute(plugin: Plugin, name: str) -> Callable[[AttributeContext], Type]:
    """``FieldPath[Address].city``: typed when the path holds a Pydantic model."""

    def hook(ctx: AttributeContext) -> Type:
        owner = get_proper_type(ctx.type)
        if not isinstance(owner, Instance) or owner.type.fullname != FIELD_PATH:
            return ctx.default_attr_type
        if not owner.args or owner.type.get(name) is not None:
            return ctx.default_attr_type  # a real attribute of FieldPath
        held = get_proper_type(owner.args[0])
        if isinstance(held, AnyType):
            return ctx.default_attr_type
        if isinstance(held, Instance) and held.type.has_base(BASE_MODEL):
            var = _field_var(held.type, name)
            if var is None or var.type is None:
                ctx.api.fail(
                    f'"{held.type.name}" has no field "{name}" (a member of a FieldPath '
                    f"holding {held.type.name})",
                    ctx.context,
                )
                return AnyType(TypeOfAny.from_error)
            return _field_path_type(plugin, var.type)
        if isinstance(held, Instance) and held.type.fullname in (
            "builtins.dict",
            "typing.Mapping",
            "collections.abc.Mapping",
        ):
            return (
                _field_path_type(plugin, held.args[1])
                if len(held.args) == 2
                else ctx.default_attr_type
            )
        ctx.api.fail(
            f'FieldPath[{held}] has no member "{name}": it does not hold a model or a map',
            ctx.context,
        )
        return AnyType(TypeOfAny.from_error)

    return hook


class SingletablePlugin(Plugin):
    """Types ``Entity.field`` as ``FieldPath[<field type>]`` and nested members."""

    def get_class_attribute_hook(self, fullname: str) -> Callable[[AttributeContext], Type] | None:
        class_name, _, name = fullname.rpartition(".")
        if not class_name or name.startswith("_"):
            return None
        symbol = self.lookup_fully_qualified(class_name)
        known = symbol.node if symbol is not None else None
        if isinstance(known, TypeInfo) and (
            not known.has_base(ENTITY) or _field_var(known, name) is None
        ):
            return None  # a class mypy knows by name that is no entity or has no such field
        return _class_attribute(self, name)

    def get_attribute_hook(self, fullname: str) -> Callable[[AttributeContext], Type] | None:
        prefix = FIELD_PATH + "."
        if fullname.startswith(prefix) and not fullname[len(prefix) :].startswith("_"):
            return _member_attribute(self, fullname[len(prefix) :])
        return None

    def get_additional_deps(self, file: MypyFile) -> list[tuple[int, str, int]]:
        if file.fullname == "singletable.conditions" or file.fullname.startswith("mypy"):
            return []
        if any(_imported_module(i).startswith("singletable") for i in file.imports):
            return [(10, "singletable.conditions", -1)]
        return []


def _imported_module(node: object) -> str:
    """The module an import statement names (``import x`` / ``from x import y``)."""
    ids = getattr(node, "ids", None)
    if ids:
        return str(ids[0][0])
    return str(getattr(node, "id", ""))


def plugin(version: str) -> type[Plugin]:
    """mypy's entry point."""
    return SingletablePlugin
