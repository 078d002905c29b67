# backend: objects, programs and tests of this directory (see docs/design.md)
# The userspace netfront library, its tool, and the emulator end-to-end tests.
-include backend/netfront/netfront.mk
