# sim: objects, programs and tests of this directory (see docs/design.md)
# The emulated libxenctrl (PCI pass-through calls) lives in sim/xenctrl/.
-include sim/xenctrl/xenctrl.mk
