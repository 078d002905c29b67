# sim/xenctrl: the emulated libxenctrl.so.4.17 (PCI pass-through calls only).
# Same soname and symbol version as Debian's, so LD_LIBRARY_PATH or an rpath
# on $(O)/simlib picks it instead of the real one.
XENCTRL_SIM_OBJS := $(O)/sim/xenctrl/xenctrl_sim.o
ALL_OBJS += $(XENCTRL_SIM_OBJS)

$(O)/simlib/libxenctrl.so.4.17: $(XENCTRL_SIM_OBJS) sim/xenctrl/xenctrl.map
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -shared -Wl,-soname,libxenctrl.so.4.17 \
		-Wl,--version-script=sim/xenctrl/xenctrl.map -o $@ $(XENCTRL_SIM_OBJS)

SIMLIBS += $(O)/simlib/libxenctrl.so.4.17
