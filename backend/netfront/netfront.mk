# The userspace netfront: libnetfront (real Xen userspace API only) and the
# netfront tool used as an emulated guest by tests, bench and demo.
NETFRONT_SRCS := $(filter-out backend/netfront/nf_tool%.c,$(wildcard backend/netfront/*.c))
NETFRONT_OBJS := $(NETFRONT_SRCS:%.c=$(O)/%.o)
NETFRONT_TOOL_OBJS := $(patsubst %.c,$(O)/%.o,$(wildcard backend/netfront/nf_tool*.c))
ALL_OBJS += $(NETFRONT_OBJS) $(NETFRONT_TOOL_OBJS)

$(O)/libnetfront.a: $(NETFRONT_OBJS)

$(O)/bin/netfront: $(NETFRONT_TOOL_OBJS) $(O)/libnetfront.a
	$(call link,$(XEN_LIBS))

BINS += $(O)/bin/netfront
INSTALL_SBINS += $(O)/bin/netfront
