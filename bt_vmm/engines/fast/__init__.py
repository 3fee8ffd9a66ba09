"""The fast interpreter tier: handlers compiled once per instruction spec from
the ISA description, run over pre-decoded instructions by a native loop."""
from bt_vmm.engines.fast.engine import FastInterpreter

__all__ = ["FastInterpreter"]
