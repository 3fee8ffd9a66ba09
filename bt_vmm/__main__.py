"""``python -m bt_vmm`` is the bt-vmm command."""
from bt_vmm.cli import command

command()
