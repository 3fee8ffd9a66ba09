"""The one description of the RISC-V ISA, and what is derived from it."""
import importlib

from bt_vmm.isa.decoder import Decoded, Decoder, IllegalInstruction, encode
from bt_vmm.isa.spec import REGISTRY

# One module per extension; importing a module registers its instructions.
EXTENSIONS = ["rv64i", "rv64m", "rv64a", "rv64f", "rv64d", "zicsr", "zifencei", "priv", "rvc", "zb"]

for _name in EXTENSIONS:
    importlib.import_module(f"bt_vmm.isa.{_name}")

DECODER = Decoder()

__all__ = ["DECODER", "Decoded", "Decoder", "IllegalInstruction", "REGISTRY", "encode"]
