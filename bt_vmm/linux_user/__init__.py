"""System-call emulation for the user-mode process VM (bt_vmm.machines.user).

memory.py   checked guest access (GuestMemory) and brk/mmap bookkeeping (AddressSpace)
loader.py   the ELF image and the initial stack (argv, envp, auxv)
table.py    the system-call table: typed arguments, strace-style formatting
process.py  the process's kernel-side state and the system-call entry (dispatch)
sys_fs.py, sys_mm.py, sys_proc.py   the system calls themselves
fdtable.py  guest descriptors -> host descriptors
abi.py      riscv64 Linux constants and structure layouts
"""
