/* Strict parsers for values read from xenstore. Anything a guest or a
 * toolstack wrote is text of unknown shape: these accept exactly the forms
 * the protocol uses ("%u", "0"/"1", "xx:xx:xx:xx:xx:xx", "bytes,usecs") and
 * refuse everything else (signs, spaces, trailing bytes, overflow).
 * All return 0 or -EINVAL. */
#ifndef NBD_XS_PARSE_H
#define NBD_XS_PARSE_H

#include <stdbool.h>
#include <stdint.h>

int nbd_parse_u32(const char *s, uint32_t max, uint32_t *out);
int nbd_parse_u64(const char *s, uint64_t *out);
int nbd_parse_bool(const char *s, bool *out);
int nbd_parse_mac(const char *s, uint8_t mac[6]);
/* The backend `rate` key: "<bytes>,<usecs>", decimal digits only, as
 * Linux's xen_net_read_rate takes it (zeros included: "0,N" passes
 * nothing). Unlike Linux, which wraps, a number above 2^64-1 is refused. */
int nbd_parse_rate(const char *s, uint64_t *bytes, uint64_t *usecs);

#endif
