/* Frames the netfront tool and the tests build and check: a numbered test
 * pattern (byte-exact verification), Internet checksums, ARP and ICMP echo
 * answers for the responder, an IPv4/UDP frame with a partial checksum. */
#ifndef NF_FRAME_H
#define NF_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NF_ETH_HLEN 14
#define NF_ETHERTYPE_TEST 0x88B5   /* IEEE "local experimental" */
#define NF_PATTERN_HDR 12          /* magic (4) + sequence (8) after the Ethernet header */

/* Fills len bytes (len >= 14): Ethernet header to dst from src with the test
 * ethertype, then (room permitting) magic + seq, then bytes derived from seq
 * and their position, so any corruption or truncation is caught. */
void nf_pattern_fill(uint8_t *buf, size_t len, const uint8_t dst[6], const uint8_t src[6], uint64_t seq);
/* True if buf/len is a pattern frame intact for its length; *seq gets the
 * sequence number (0 for frames too short to carry it). */
bool nf_pattern_check(const uint8_t *buf, size_t len, uint64_t *seq);

/* One's-complement sum of data added to sum (not folded, not inverted). */
uint32_t nf_csum_add(uint32_t sum, const void *data, size_t len);
uint16_t nf_csum_fold(uint32_t sum);

/* Builds an Ethernet/IPv4/UDP frame of total length len (>= 42) with payload
 * pattern from seq. partial=true: the UDP checksum field holds only the folded
 * pseudo-header sum (what a guest sends with NETTXF_csum_blank);
 * *csum_start / *csum_offset say where the stack would finish it. */
void nf_build_udp4(uint8_t *buf, size_t len, const uint8_t dst[6], const uint8_t src[6],
                   uint32_t sip, uint32_t dip, uint64_t seq, bool partial,
                   uint16_t *csum_start, uint16_t *csum_offset);
/* Builds an Ethernet/IPv4/TCP frame of total length len (>= 54) carrying
 * payload bytes [tcp_seq, tcp_seq + len - 54) of a stream whose byte i is
 * nf_stream_byte(i) — so segments of one big frame can be checked against
 * it. partial: checksum field = pseudo-header sum (csum_blank / GSO). */
void nf_build_tcp4(uint8_t *buf, size_t len, const uint8_t dst[6], const uint8_t src[6],
                   uint32_t sip, uint32_t dip, uint32_t tcp_seq, bool partial);
uint8_t nf_stream_byte(uint32_t i);
/* For a TCP/IPv4 frame: its TCP sequence number and payload (NULL if not one). */
const uint8_t *nf_tcp4_payload(const uint8_t *buf, size_t len, uint32_t *tcp_seq, size_t *plen);

/* True if buf is IPv4 TCP or UDP with a correct L4 checksum (recomputed). */
bool nf_l4_csum_ok(const uint8_t *buf, size_t len);

/* Responder: if frame is an ARP request for ip, or an ICMP echo request to
 * ip, writes the answer into out (cap bytes) and returns its length; else 0. */
size_t nf_answer(const uint8_t *frame, size_t len, uint32_t ip, const uint8_t mac[6],
                 uint8_t *out, size_t cap);

#endif
