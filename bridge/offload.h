/* Software versions of the offloads a guest or a NIC may leave to someone
 * else: finding where a blank L4 checksum goes, filling it, checking it,
 * and cutting a TCP GSO packet into MSS-sized frames. Frames are Ethernet,
 * optionally with one 802.1Q tag, carrying IPv4 or IPv6 with TCP or UDP.
 * Errors are negative errnos:
 *   -EPROTONOSUPPORT  not IPv4/IPv6 + TCP/UDP (or an IPv4 fragment)
 *   -EBADMSG          headers truncated or inconsistent
 *   -ENOBUFS          the pool ran out
 *   -ENOSPC           more segments than the caller has room for */
#ifndef NB_OFFLOAD_H
#define NB_OFFLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "bridge/pkt.h"

/* Offsets of a parsed frame, all from pkt->data. */
struct nb_l4_info {
    uint16_t l3_off;        /* IP header */
    uint16_t l4_off;        /* TCP/UDP header */
    uint8_t  ip_version;    /* 4 or 6 */
    uint8_t  l4_proto;      /* IPPROTO_TCP or IPPROTO_UDP */
    uint16_t l4_hdr_len;    /* TCP header with options, or 8 for UDP */
};

int nb_offload_parse(const struct nb_pkt *pkt, struct nb_l4_info *info);

/* For a packet sent with its L4 checksum blank (netif NETTXF_csum_blank):
 * sets csum_start/csum_offset and NB_PKT_CSUM_PARTIAL. With fill_pseudo the
 * checksum field is also set to the pseudo-header sum, as CSUM_PARTIAL
 * expects (for guests that leave it zero). Packet must be writable when
 * fill_pseudo. */
int nb_offload_csum_setup(struct nb_pkt *pkt, bool fill_pseudo);

/* Fills the checksum of a CSUM_PARTIAL packet (the field already holds the
 * pseudo-header sum): sums csum_start..end and stores the complement.
 * Clears CSUM_PARTIAL, sets DATA_VALID. Packet must be writable.
 * -EBADMSG if csum_start/csum_offset point outside the frame. */
int nb_offload_csum_complete(struct nb_pkt *pkt);

/* The IP version of an Ethernet frame (looking through one 802.1Q tag):
 * 4, 6, or 0 for anything else. */
unsigned nb_offload_ip_version(const struct nb_pkt *pkt);

/* For a receiver that takes blank checksums of IPv4 frames only, of IPv6
 * frames only, or of both (a netif frontend's feature-no-csum-offload and
 * feature-ipv6-csum-offload, Linux's NETIF_F_IP_CSUM / NETIF_F_IPV6_CSUM):
 * completes the checksum of a CSUM_PARTIAL, non-GSO frame of a kind it
 * does not take, as Linux's stack does before handing such an skb to a
 * device (skb_csum_hwoffload_help); non-IP partial frames are completed
 * too. GSO frames are left alone (the bridge segments those by the TSO
 * offloads). A shared frame is not written: *pkt is then replaced by a
 * private copy (the caller's reference to the original dropped).
 * Returns 0, -ENOBUFS (no buffer for the copy; *pkt untouched and still
 * the caller's) or -EBADMSG (csum_start/csum_offset outside the frame). */
int nb_offload_csum_for(struct nb_pkt **pkt, bool ipv4, bool ipv6);

/* Checks the L4 checksum (and IPv4 header checksum): 0 when right,
 * -EBADMSG when wrong or truncated, -EPROTONOSUPPORT otherwise. */
int nb_offload_csum_verify(const struct nb_pkt *pkt);

/* Cuts a NB_GSO_TCPV4/TCPV6 packet into frames of at most gso_size payload
 * bytes each, in new packets from pkt's pool, with per-segment IP lengths,
 * IPv4 ids (consecutive from the original), TCP sequence numbers, flags
 * (FIN/PSH on the last only, CWR on the first only) and complete IP/TCP
 * checksums (DATA_VALID set). pkt is left untouched (caller frees it).
 * Returns the number of segments written to out. */
int nb_offload_tso_segment(const struct nb_pkt *pkt, struct nb_pkt **out, unsigned max);

/* Segments a TSO packet of len bytes with gso_size mss needs at most. */
unsigned nb_offload_tso_count(const struct nb_pkt *pkt);

/* RFC 1071 sum of len bytes added to sum, in memory byte order; fold and
 * complement with nb_csum_fold(). */
uint64_t nb_csum_add(uint64_t sum, const void *buf, size_t len);
uint16_t nb_csum_fold(uint64_t sum);

#endif
