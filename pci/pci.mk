# pci: objects, programs and tests of this directory (see docs/design.md)
