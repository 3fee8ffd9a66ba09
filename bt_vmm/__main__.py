"""``python -m bt_vmm`` is the bt-vmm command."""
import sys

from bt_vmm.cli import main

sys.exit(main())
