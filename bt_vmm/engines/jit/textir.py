"""LLVM IR written as text while it is built: the part of llvmlite.ir's API
that the translator and the handlers use, with the same names.

llvmlite.ir builds an object graph (a named, scoped object per value) and
formats it at the end; for a region that was ~40% of its translation time,
as much as LLVM's own optimisation of it.  Here an instruction is one
formatted line when it is emitted: only the few whose operands come later
(phi incomings, switch cases) and the metadata attached after emission
are formatted at the end.
"""
from __future__ import annotations

from itertools import count


# ---------------------------------------------------------------- types
class Type:
    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text

    def __str__(self) -> str:
        return self.text

    def __eq__(self, other) -> bool:
        return isinstance(other, Type) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)

    def as_pointer(self) -> PointerType:
        return PointerType(self)


class IntType(Type):
    __slots__ = ()

    def __init__(self, width: int):
        super().__init__(f"i{width}")


class PointerType(Type):
    """An opaque pointer; ``pointee`` remembers a function type for calls."""

    __slots__ = ("pointee",)

    def __init__(self, pointee: Type | None = None):
        super().__init__("ptr")
        self.pointee = pointee


class FunctionType(Type):
    __slots__ = ("return_type", "args")

    def __init__(self, return_type: Type, args: list[Type]):
        super().__init__(f"{return_type} ({', '.join(map(str, args))})")
        self.return_type, self.args = return_type, list(args)


class ArrayType(Type):
    __slots__ = ("element", "count")

    def __init__(self, element: Type, n: int):
        super().__init__(f"[{n} x {element}]")
        self.element, self.count = element, n


def VoidType() -> Type:
    return Type("void")


def FloatType() -> Type:
    return Type("float")


def DoubleType() -> Type:
    return Type("double")


def MetaDataType() -> Type:
    return Type("metadata")


_I1 = IntType(1)
_I32 = IntType(32)
_PTR = PointerType()


# ---------------------------------------------------------------- values
class Value:
    """Anything an instruction takes: its type and how an operand names it."""

    __slots__ = ("type", "ref")

    def __init__(self, typ: Type, ref: str):
        self.type, self.ref = typ, ref

    def operand(self) -> str:
        return f"{self.type} {self.ref}"


class Constant(Value):
    __slots__ = ()

    def __init__(self, typ: Type, value):
        if isinstance(typ, ArrayType):
            ref = "zeroinitializer" if value is None else \
                "[" + ", ".join(f"{typ.element} {int(v)}" for v in value) + "]"
        elif typ.text == "i1":
            ref = "true" if value else "false"
        else:
            ref = str(int(value or 0))
        super().__init__(typ, ref)


class MetaDataString(Value):
    __slots__ = ()

    def __init__(self, module: Module, text: str):
        super().__init__(Type("metadata"), f'!"{text}"')


class MDValue(Value):
    """A numbered metadata node."""

    __slots__ = ()


class Instruction(Value):
    """An emitted instruction: its line, and metadata attached since."""

    __slots__ = ("text", "meta")

    def __init__(self, typ: Type, ref: str, text: str):
        super().__init__(typ, ref)
        self.text, self.meta = text, ""

    def set_metadata(self, kind: str, node: MDValue) -> None:
        self.meta += f", !{kind} {node.ref}"

    def line(self) -> str:
        return self.text + self.meta


class AllocaInstr(Instruction):
    __slots__ = ()


class Branch(Instruction):
    __slots__ = ("module",)

    def set_weights(self, weights: list[int]) -> None:
        node = self.module.add_metadata([MetaDataString(self.module, "branch_weights"),
                                         *(Constant(_I32, w) for w in weights)])
        self.set_metadata("prof", node)


class SwitchInstr(Instruction):
    __slots__ = ("cases",)

    def add_case(self, value: Value, block: Block) -> None:
        self.cases.append(f"{value.operand()}, label {block.ref}")

    def line(self) -> str:
        return f"{self.text} [{' '.join(self.cases)}]{self.meta}"


class PhiInstr(Instruction):
    __slots__ = ("incoming",)

    def add_incoming(self, value: Value, block: Block) -> None:
        self.incoming.append(f"[{value.ref}, {block.ref}]")

    def line(self) -> str:
        return f"{self.text} {', '.join(self.incoming)}{self.meta}"


class Argument(Value):
    __slots__ = ("attributes",)

    def __init__(self, typ: Type, ref: str):
        super().__init__(typ, ref)
        self.attributes: list[str] = []

    def add_attribute(self, attr: str) -> None:
        self.attributes.append(attr)


class Block(Value):
    __slots__ = ("name", "function", "instructions", "is_terminated")

    def __init__(self, function: Function, name: str):
        super().__init__(Type("label"), f"%{name}")
        self.name, self.function = name, function
        self.instructions: list[Instruction] = []
        self.is_terminated = False


# ---------------------------------------------------------------- globals
class GlobalValue(Value):
    __slots__ = ("name", "module", "linkage")

    def __init__(self, module: Module, typ: Type, name: str):
        super().__init__(typ, f'@"{name}"')
        self.name, self.module, self.linkage = name, module, ""
        module.globals[name] = self

    def _linkage(self) -> str:
        return f"{self.linkage} " if self.linkage else ""


class GlobalVariable(GlobalValue):
    __slots__ = ("value_type", "initializer", "global_constant")

    def __init__(self, module: Module, typ: Type, name: str):
        super().__init__(module, _PTR, name)
        self.value_type, self.initializer = typ, None
        self.global_constant = False

    def definition(self) -> str:
        init = self.initializer or Constant(self.value_type, None)
        kind = "constant" if self.global_constant else "global"
        return f"{self.ref} = {self._linkage()}{kind} {init.operand()}"


class Function(GlobalValue):
    __slots__ = ("ftype", "args", "blocks", "attributes", "_labels", "_values")

    def __init__(self, module: Module, ftype: FunctionType, name: str):
        super().__init__(module, _PTR, name)
        self.ftype = ftype
        self.args = tuple(Argument(t, f"%a{i}") for i, t in enumerate(ftype.args))
        self.blocks: list[Block] = []
        self.attributes: set[str] = set()
        self._labels: dict[str, int] = {}
        self._values = count()

    def append_basic_block(self, name: str = "") -> Block:
        n = self._labels.get(name, 0)
        self._labels[name] = n + 1
        blk = Block(self, f"{name}.{n}" if n or not name else name)
        self.blocks.append(blk)
        return blk

    def definition(self) -> str:
        ft = self.ftype
        if not self.blocks:
            return f"declare {ft.return_type} {self.ref}({', '.join(map(str, ft.args))})"
        params = ", ".join(" ".join([str(a.type), *a.attributes, a.ref]) for a in self.args)
        lines = [f"define {self._linkage()}{ft.return_type} {self.ref}({params}) {' '.join(sorted(self.attributes))}", "{"]
        for blk in self.blocks:
            lines.append(f"{blk.name}:")
            lines.extend("  " + i.line() for i in blk.instructions)
        lines.append("}")
        return "\n".join(lines)


class Module:
    def __init__(self, name: str = ""):
        self.name, self.triple, self.data_layout = name, "", ""
        self.globals: dict[str, GlobalValue] = {}
        self._metadata: dict[str, MDValue] = {}

    def add_metadata(self, operands: list[Value]) -> MDValue:
        """A metadata node (one per distinct content, as llvmlite does)."""
        text = "!{" + ", ".join(v.ref if isinstance(v, (MDValue, MetaDataString)) else v.operand()
                               for v in operands) + "}"
        node = self._metadata.get(text)
        if node is None:
            node = self._metadata[text] = MDValue(Type("metadata"), f"!{len(self._metadata)}")
        return node

    def __str__(self) -> str:
        parts = [f'; ModuleID = "{self.name}"']
        if self.triple:
            parts.append(f'target triple = "{self.triple}"')
        parts.extend(g.definition() for g in self.globals.values())
        parts.extend(f"{node.ref} = {text}" for text, node in self._metadata.items())
        return "\n".join(parts) + "\n"


# ---------------------------------------------------------------- builder
_ICMP = {"==": "eq", "!=": "ne", "<": "lt", "<=": "le", ">": "gt", ">=": "ge"}


class IRBuilder:
    """Appends instructions at the end of a block."""

    def __init__(self, block: Block | None = None):
        self.block = block

    def position_at_end(self, block: Block) -> None:
        self.block = block

    # --- emission
    def _emit(self, typ: Type, text: str, cls=Instruction, name: str = "") -> Instruction:
        ref = f"%{name or 'v'}{next(self.block.function._values)}"
        instr = cls(typ, ref, f"{ref} = {text}")
        self.block.instructions.append(instr)
        return instr

    def _effect(self, text: str, cls=Instruction, terminator: bool = False) -> Instruction:
        instr = cls(Type("void"), "", text)
        self.block.instructions.append(instr)
        if terminator:
            self.block.is_terminated = True
        return instr

    def _binary(self, op: str, a: Value, b: Value) -> Instruction:
        return self._emit(a.type, f"{op} {a.type} {a.ref}, {b.ref}")

    # --- arithmetic
    def add(self, a, b):
        return self._binary("add", a, b)

    def sub(self, a, b):
        return self._binary("sub", a, b)

    def mul(self, a, b):
        return self._binary("mul", a, b)

    def sdiv(self, a, b):
        return self._binary("sdiv", a, b)

    def udiv(self, a, b):
        return self._binary("udiv", a, b)

    def srem(self, a, b):
        return self._binary("srem", a, b)

    def urem(self, a, b):
        return self._binary("urem", a, b)

    def and_(self, a, b):
        return self._binary("and", a, b)

    def or_(self, a, b):
        return self._binary("or", a, b)

    def xor(self, a, b):
        return self._binary("xor", a, b)

    def not_(self, a):
        return self._emit(a.type, f"xor {a.type} {a.ref}, -1")

    def shl(self, a, b):
        return self._binary("shl", a, b)

    def lshr(self, a, b):
        return self._binary("lshr", a, b)

    def ashr(self, a, b):
        return self._binary("ashr", a, b)

    def icmp_unsigned(self, op: str, a, b):
        cond = _ICMP[op]
        return self._emit(_I1, f"icmp {cond if cond in ('eq', 'ne') else 'u' + cond} {a.type} {a.ref}, {b.ref}")

    def icmp_signed(self, op: str, a, b):
        cond = _ICMP[op]
        return self._emit(_I1, f"icmp {cond if cond in ('eq', 'ne') else 's' + cond} {a.type} {a.ref}, {b.ref}")

    def select(self, c, a, b):
        return self._emit(a.type, f"select i1 {c.ref}, {a.operand()}, {b.operand()}")

    # --- conversions
    def _cast(self, op: str, v: Value, typ: Type) -> Instruction:
        return self._emit(typ, f"{op} {v.operand()} to {typ}")

    def zext(self, v, typ):
        return self._cast("zext", v, typ)

    def sext(self, v, typ):
        return self._cast("sext", v, typ)

    def trunc(self, v, typ):
        return self._cast("trunc", v, typ)

    def bitcast(self, v, typ):
        return self._cast("bitcast", v, typ)

    def inttoptr(self, v, typ):
        return self._cast("inttoptr", v, typ)

    def ptrtoint(self, v, typ):
        return self._cast("ptrtoint", v, typ)

    # --- memory
    def alloca(self, typ: Type, name: str = "") -> AllocaInstr:
        return self._emit(_PTR, f"alloca {typ}", AllocaInstr, name and name + ".")

    def load(self, ptr: Value, align: int | None = None, typ: Type | None = None) -> Instruction:
        tail = f", align {align}" if align else ""
        return self._emit(typ, f"load {typ}, ptr {ptr.ref}{tail}")

    def load_volatile(self, ptr: Value, align: int, typ: Type | None = None) -> Instruction:
        """A load done every time it runs, in place (another thread may
        change the value); unlike an atomic one, x86 folds it into a compare."""
        return self._emit(typ, f"load volatile {typ}, ptr {ptr.ref}, align {align}")

    def store(self, value: Value, ptr: Value) -> Instruction:
        return self._effect(f"store {value.operand()}, ptr {ptr.ref}")

    def gep(self, ptr: Value, indices: list[Value], source_etype: Type | None = None):
        etype = source_etype or ptr.value_type
        return self._emit(_PTR, f"getelementptr {etype}, ptr {ptr.ref}, {', '.join(i.operand() for i in indices)}")

    # --- control flow
    def branch(self, target: Block) -> Instruction:
        return self._effect(f"br label {target.ref}", terminator=True)

    def cbranch(self, cond: Value, yes: Block, no: Block) -> Branch:
        br = self._effect(f"br i1 {cond.ref}, label {yes.ref}, label {no.ref}", Branch, terminator=True)
        br.module = self.block.function.module
        return br

    def switch(self, value: Value, default: Block) -> SwitchInstr:
        sw = self._effect(f"switch {value.operand()}, label {default.ref}", SwitchInstr, terminator=True)
        sw.cases = []
        return sw

    def phi(self, typ: Type) -> PhiInstr:
        phi = self._emit(typ, f"phi {typ}", PhiInstr)
        phi.incoming = []
        return phi

    def ret(self, value: Value) -> Instruction:
        return self._effect(f"ret {value.operand()}", terminator=True)

    def unreachable(self) -> Instruction:
        return self._effect("unreachable", terminator=True)

    def call(self, fn: Value, args: list[Value], tail: str | None = None) -> Instruction:
        ftype = fn.ftype if isinstance(fn, Function) else fn.type.pointee
        text = f"call {ftype.return_type} {fn.ref}({', '.join(a.operand() for a in args)})"
        if tail:
            text = f"{tail} {text}"
        if str(ftype.return_type) == "void":
            return self._effect(text)
        return self._emit(ftype.return_type, text)
