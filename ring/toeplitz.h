/* Toeplitz hash (netif.h's definition, the RSS one) and the hash input the
 * XEN_NETIF_CTRL_HASH_TYPE_* flags select from an Ethernet frame. Pure. */
#ifndef NB_RING_TOEPLITZ_H
#define NB_RING_TOEPLITZ_H

#include <stdbool.h>
#include <stdint.h>

/* Longest hash input: IPv6 addresses + TCP ports. */
#define NETIF_HASH_INPUT_MAX 36u

/* Toeplitz over buf[0..len) with key[0..keylen); key octets past keylen
 * count as zero (netif.h: "any key octets not specified are assumed to be
 * zero"), so an empty key hashes everything to 0. */
uint32_t netif_toeplitz(const uint8_t *key, unsigned keylen,
                        const uint8_t *buf, unsigned len);

/* Builds the hash input for the "maximal" enabled type (netif.h: TCP types
 * win over address-only types for TCP packets) from an Ethernet frame,
 * optionally carrying one 802.1Q tag. IPv4: header length checked, TCP only
 * when not a fragment. IPv6: TCP only when it is the first next header.
 * Writes the input into in[NETIF_HASH_INPUT_MAX], its length into *in_len
 * and the _XEN_NETIF_CTRL_HASH_TYPE_* index into *hash_type. Returns false
 * when no enabled type applies (or the frame is truncated). */
bool netif_hash_input(const uint8_t *frame, uint32_t len, uint32_t type_flags,
                      uint8_t *in, unsigned *in_len, uint8_t *hash_type);

#endif
