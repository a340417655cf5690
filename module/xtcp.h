/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xtcp private header: the socket, the per-namespace state and the
 * prototypes shared between files, grouped by the file that defines them.
 */
#ifndef _XTCP_H
#define _XTCP_H

#include <linux/indirect_call_wrapper.h>
#include <linux/jhash.h>
#include <linux/percpu_counter.h>
#include <linux/rhashtable-types.h>
#include <linux/seq_file.h>
#include <linux/tcp.h>
#include <linux/types.h>
#include <linux/win_minmax.h>
#include <linux/xarray.h>
#include <net/inet_sock.h>
#include <net/ip.h>
#include <net/ipv6.h>
#include <net/netns/generic.h>
#include <net/snmp.h>
#include <uapi/linux/xtcp.h>

#include "compat.h"
#include "mib.h"

#define XTCP_BHASH_SIZE 512

/**
 * struct xtcp_tuple - lookup key of a connection or TIME_WAIT bucket
 * @laddr: local address
 * @raddr: remote address
 * @lport: local port
 * @rport: remote port
 *
 * One key for both address families: an IPv4 address is kept
 * IPv4-mapped (::ffff:a.b.c.d, RFC 4291 section 2.5.5.2), as Linux keeps
 * the IPv6 view of an IPv4 socket's addresses. A native IPv6 segment
 * never carries an IPv4-mapped address, so the two cannot collide.
 */
struct xtcp_tuple {
	struct in6_addr laddr;
	struct in6_addr raddr;
	__be16 lport;
	__be16 rport;
};

/* The IPv4 address an IPv4-mapped one stands for. */
static inline __be32 xtcp_addr_v4(const struct in6_addr *a)
{
	return a->s6_addr32[3];
}

static inline bool xtcp_tuple_is_v4(const struct xtcp_tuple *t)
{
	return ipv6_addr_v4mapped(&t->laddr);
}

/*
 * rhashtable hash of a 4-tuple: an IPv4 one hashes its three words only,
 * as before the key could hold IPv6 addresses.
 */
static inline u32 xtcp_tuple_hashfn(const void *data, u32 len, u32 seed)
{
	const struct xtcp_tuple *t = data;

	if (xtcp_tuple_is_v4(t))
		return jhash_3words((__force u32)xtcp_addr_v4(&t->laddr),
				    (__force u32)xtcp_addr_v4(&t->raddr),
				    (__force u32)t->lport << 16 |
				    (__force u32)t->rport, seed);
	return jhash2((const u32 *)t, sizeof(*t) / sizeof(u32), seed);
}

/* The wildcard address of either family (INADDR_ANY or ::). */
static inline bool xtcp_addr_any(const struct in6_addr *a)
{
	return ipv6_addr_any(a) ||
	       (ipv6_addr_v4mapped(a) && !xtcp_addr_v4(a));
}

static inline bool xtcp_addr_loopback(const struct in6_addr *a)
{
	if (ipv6_addr_v4mapped(a))
		return ipv4_is_loopback(xtcp_addr_v4(a));
	return ipv6_addr_loopback(a);
}

/* Whether @sk speaks IPv6 (an AF_INET6 socket). */
static inline bool xtcp_sk_is_v6(const struct sock *sk)
{
	return IS_ENABLED(CONFIG_IPV6) && sk->sk_family == AF_INET6;
}

/* The local address @sk is bound to, wildcard included. */
static inline void xtcp_sk_rcv_saddr(const struct sock *sk,
				     struct in6_addr *a)
{
#if IS_ENABLED(CONFIG_IPV6)
	if (xtcp_sk_is_v6(sk)) {
		*a = sk->sk_v6_rcv_saddr;
		return;
	}
#endif
	ipv6_addr_set_v4mapped(inet_sk(sk)->inet_rcv_saddr, a);
}

/**
 * struct xtcp_bind_addr - a local address as bind() conflicts see it
 * @addr6: the IPv6 view of the address (IPv4-mapped for IPv4)
 * @addr4: the IPv4 address (inet_rcv_saddr): 0 for any, and for an
 *	AF_INET6 socket bound to a native IPv6 address LOOPBACK4_IPV6
 * @v6: an AF_INET6 socket's
 * @v6only: and it has IPV6_V6ONLY
 *
 * For a socket or a TIME_WAIT bucket alike (xtcp_bind_addr_overlap()).
 */
struct xtcp_bind_addr {
	struct in6_addr addr6;
	__be32 addr4;
	bool v6;
	bool v6only;
};

/*
 * The socket's route if still valid, as __sk_dst_check() with the
 * family's cookie (an IPv6 route is checked against the cookie it was
 * stored with; 0 would drop it).
 */
static inline struct dst_entry *xtcp_sk_dst_check(struct sock *sk)
{
#if IS_ENABLED(CONFIG_IPV6)
	if (xtcp_sk_is_v6(sk))
		return __sk_dst_check(sk, inet6_sk(sk)->dst_cookie);
#endif
	return __sk_dst_check(sk, 0);
}

/* The 4-tuple of a socket whose addresses and ports are set. */
static inline void xtcp_tuple_of_sk(const struct sock *sk,
				    struct xtcp_tuple *t)
{
	const struct inet_sock *inet = inet_sk(sk);

	t->lport = inet->inet_sport;
	t->rport = inet->inet_dport;
#if IS_ENABLED(CONFIG_IPV6)
	if (xtcp_sk_is_v6(sk)) {
		t->laddr = sk->sk_v6_rcv_saddr;
		t->raddr = sk->sk_v6_daddr;
		return;
	}
#endif
	ipv6_addr_set_v4mapped(inet->inet_saddr, &t->laddr);
	ipv6_addr_set_v4mapped(inet->inet_daddr, &t->raddr);
}

/* Slot of a local port in the port-indexed tables (bhash, lhash, TIME_WAIT). */
static inline unsigned int xtcp_port_slot(u16 port)
{
	return port & (XTCP_BHASH_SIZE - 1);
}

/* Segment flags as in the TCP header's 13th byte. */
#define XTCPHDR_FIN	0x01
#define XTCPHDR_SYN	0x02
#define XTCPHDR_RST	0x04
#define XTCPHDR_PSH	0x08
#define XTCPHDR_ACK	0x10

#define XTCP_BASE_HLEN		20
#define XTCP_MAX_OPT_LEN	40
#define XTCP_MAX_HLEN		(XTCP_BASE_HLEN + XTCP_MAX_OPT_LEN)
#define XTCP_MIN_MSS		88	/* smallest XTCP_MAXSEG, as TCP_MIN_MSS */
#define XTCP_MIN_SND_MSS	48	/* send MSS floor, as TCP_MIN_SND_MSS */
#define XTCP_DEFAULT_MSS	536
#define XTCP_INIT_CWND		10	/* RFC 6928 */
#define XTCP_TIMEOUT_INIT	HZ	/* RFC 6298 initial RTO */
#define XTCP_TIMEOUT_MIN	2U	/* jiffies: a SYN resent without delay */
#define XTCP_RTO_MAX		(120 * HZ)
#define XTCP_DELACK_MAX		(HZ / 25)
#define XTCP_DELACK_MIN		(HZ / 50)

#define XTCP_NUM_SACKS		4	/* blocks kept, as TCP_NUM_SACKS */

/**
 * struct xtcp_opts - options of one segment, parsed or to be written
 * @mss: MSS option value, 0 if absent
 * @wscale: window scale shift, -1 if absent
 * @ts_ok: timestamps option present
 * @sack_ok: SACK-permitted option present (SYN and SYN-ACK only)
 * @sack_off: parsed: offset of the first SACK option from the start of
 *	the header, 0 if none
 * @nr_sack: to write: SACK blocks to write after the other options
 * @tsval: timestamp value
 * @tsecr: timestamp echo reply
 *
 * It lives in the skb control block of received segments: the SACK
 * blocks themselves stay in the header (@sack_off), as Linux keeps them.
 */
struct xtcp_opts {
	u16 mss;
	s8 wscale;
	u8 ts_ok:1,
	   sack_ok:1;
	u8 sack_off;
	u8 nr_sack;
	u32 tsval;
	u32 tsecr;
};

/**
 * struct xtcp_sack_block - one SACK block (RFC 2018 section 3)
 * @start_seq: first sequence number of the block
 * @end_seq: sequence number after its last
 */
struct xtcp_sack_block {
	u32 start_seq;
	u32 end_seq;
};

/**
 * struct xtcp_skb_cb - per-segment control block in skb->cb
 * @seq: first sequence number
 * @end_seq: @seq + SYN + FIN + payload length
 * @ack_seq: acknowledgment number (received segments)
 * @pcount: segments a sent skb still counts in packets_out: its payload
 *	not yet acknowledged in @seg_size pieces, at least 1; 0 until sent
 * @seg_size: the segment size a sent skb was cut into (its GSO size)
 * @when: jiffies of the last transmission (sent segments, for Karn)
 * @flags: XTCPHDR_* flags
 * @retrans: the segment was retransmitted; its RTT sample is ambiguous
 * @uncharged: a queued SYN or FIN sent although net.xtcp.mem had no room
 *	for it: its truesize is not charged (xtcp_wmem_charge())
 * @eor: the write that filled it ended with MSG_EOR: later writes start a
 *	segment of their own
 * @sacked: in flight and covered whole by a SACK block (RFC 6675 scoreboard)
 * @lost: in flight, not SACKed, and taken for lost (RFC 6675 IsLost())
 * @rexmit: retransmitted in the current SACK recovery: in the pipe again
 * @tw_isn: ISN for a SYN that replaced a TIME_WAIT bucket, 0 if none
 * @opts: parsed options (received segments)
 */
struct xtcp_skb_cb {
	u32 seq;
	u32 end_seq;
	u32 ack_seq;
	u16 pcount;
	u16 seg_size;
	unsigned long when;
	u8 flags;
	u8 retrans:1,
	   uncharged:1,
	   eor:1,
	   sacked:1,
	   lost:1,
	   rexmit:1;
	u32 tw_isn;
	struct xtcp_opts opts;
};

#define XTCP_SKB_CB(skb) ((struct xtcp_skb_cb *)&((skb)->cb[0]))

/* Wrap-safe sequence comparisons (RFC 9293 section 3.4). */
static inline bool xtcp_before(u32 a, u32 b)
{
	return (s32)(a - b) < 0;
}

#define xtcp_after(a, b) xtcp_before(b, a)

static inline bool xtcp_between(u32 seq, u32 lo, u32 hi)
{
	return hi - lo >= seq - lo;	/* lo <= seq <= hi */
}

/**
 * struct xtcp_conn_stats - what TCP_INFO counts over a connection's life
 * @bytes_acked: sequence space acknowledged by the peer; the FIN counts
 *	one, and the SYN too on the side that connect()ed, as in Linux
 * @bytes_received: sequence space received in order (the FIN counts one)
 * @bytes_sent: payload bytes transmitted, retransmissions included
 * @bytes_retrans: payload bytes retransmitted
 * @segs_out: segments transmitted, pure ACKs and retransmissions included
 * @segs_in: segments received
 * @data_segs_out: segments with payload transmitted
 * @data_segs_in: segments with payload received
 * @delivered: segments cumulatively acknowledged
 * @rcv_ooopack: segments received out of order
 */
struct xtcp_conn_stats {
	u64 bytes_acked;
	u64 bytes_received;
	u64 bytes_sent;
	u64 bytes_retrans;
	u32 segs_out;
	u32 segs_in;
	u32 data_segs_out;
	u32 data_segs_in;
	u32 delivered;
	u32 rcv_ooopack;
};

enum xtcp_timer_event {
	XTCP_EV_RETRANS,
	XTCP_EV_DELACK,
	XTCP_EV_KEEPALIVE,
	XTCP_EV_MTU_REDUCED,	/* not a timer: an ICMP lowered the path MTU */
};

/**
 * struct xtcp_af_ops - what xtcp does differently per address family, as
 * Linux's inet_connection_sock_af_ops for TCP
 * @queue_xmit: send a segment of a socket (ip_queue_xmit())
 * @send_check: seed the checksum field of a segment of a socket, @len
 *	bytes long, with the sum of the family's pseudo-header (our
 *	protocol number in it), as for CHECKSUM_PARTIAL
 * @child_init: addresses and ports of a passive child from the SYN
 * @child_route: route of a passive child back to its peer; 0 or -errno
 * @tuple_of_skb: the 4-tuple of a received segment, seen from this host
 * @reply_mss: the MSS to announce in a SYN-ACK sent without a socket
 * @req_mss: the MSS a half-open connection announces, 0 without a route
 * @send_tuple: send a segment that belongs to no socket
 * @send_reply: answer a received segment without a socket
 * @send_reset: RST in answer to a received segment
 * @mtu_reduced: act on a smaller path MTU reported by ICMP
 * @iif: the index of the device a received segment came in by
 * @net_header_len: bytes of the network header (without options)
 *
 * A socket's operations are those of the family its segments travel in
 * (xtcp_sock.af_ops); a segment's, those of the family it arrived in
 * (xtcp_af_ops_of_skb()).
 */
/**
 * struct xtcp_tx_meta - how a segment sent without a full socket leaves:
 * a SYN-ACK or ACK of a half-open entry, an ACK of a TIME_WAIT entry, a
 * RST of no socket
 * @mark: skb->mark, for the route
 * @oif: output interface, 0 for any
 * @txhash: the flow's hash (skb->hash, from which IPv6 derives automatic
 *	flow labels and the stack picks a queue), 0 for one derived from
 *	the 4-tuple
 * @flowlabel: IPv6 flow label (IPV6_FLOWLABEL_MASK bits, network order),
 *	0 for an automatic one if @autolabel
 * @tos: IPv4 TOS or IPv6 traffic class
 * @autolabel: an automatic IPv6 flow label where @flowlabel is 0
 *	(RFC 6437, net.ipv6.auto_flowlabels)
 */
struct xtcp_tx_meta {
	u32 mark;
	int oif;
	u32 txhash;
	__be32 flowlabel;
	u8 tos;
	bool autolabel;
};

struct xtcp_af_ops {
	int (*queue_xmit)(struct sock *sk, struct sk_buff *skb,
			  struct flowi *fl);
	void (*send_check)(const struct sock *sk, struct tcphdr *th,
			   unsigned int len);
	void (*child_init)(struct sock *child, const struct sk_buff *skb);
	int (*child_route)(struct sock *child);
	void (*tuple_of_skb)(const struct sk_buff *skb, struct xtcp_tuple *t);
	u16 (*reply_mss)(const struct sk_buff *skb);
	u16 (*req_mss)(const struct sock *sk, const struct xtcp_tuple *t);
	void (*send_tuple)(struct net *net, const struct xtcp_tuple *t,
			   const struct xtcp_tx_meta *m, u32 seq, u32 ack,
			   u8 flags, u16 win, const struct xtcp_opts *opts);
	void (*send_reply)(struct net *net, struct sk_buff *in,
			   const struct xtcp_tx_meta *m, u32 seq, u32 ack,
			   u8 flags, u16 win, const struct xtcp_opts *opts);
	void (*send_reset)(struct net *net, struct sk_buff *in);
	void (*mtu_reduced)(struct sock *sk);
	int (*iif)(const struct sk_buff *skb);
	u16 net_header_len;
};

/**
 * struct xtcp_sock - an xtcp socket
 * @inet: the generic IPv4 socket; must stay first (inet_sk() casts)
 * @af_ops: the address family's operations (struct xtcp_af_ops)
 * @tuple: the 4-tuple while in the connection table
 * @node: link in the connection table (established, SYN_SENT, SYN_RCVD)
 * @hashed: @node is in the connection table
 * @iss: our initial sequence number
 * @snd_una: oldest unacknowledged sequence number
 * @snd_nxt: next sequence number to send
 * @snd_sml: end of the last segment sent smaller than the MSS (Minshall's
 *	Nagle: another small one waits only while this is unacknowledged)
 * @write_seq: sequence number after the last byte queued by the user
 * @snd_wnd: peer's receive window, bytes (scaled)
 * @snd_wl1: segment sequence used for the last window update
 * @snd_wl2: segment acknowledgment used for the last window update
 * @max_window: largest window the peer ever offered
 * @irs: peer's initial sequence number
 * @rcv_nxt: next sequence number expected from the peer
 * @copied_seq: first sequence number not yet read by the user
 * @rcv_wup: @rcv_nxt when the window was last advertised
 * @rcv_wnd: window last advertised, bytes
 * @rcvq_seq: @copied_seq when the current receive buffer tuning period
 *	began (xtcp_rcv_space_adjust())
 * @rcvq_time: jiffies when it began
 * @mss_cache: current send MSS (payload bytes per segment)
 * @advmss: MSS we advertise
 * @user_mss: MSS clamp set with XTCP_MAXSEG, 0 if none
 * @mss_clamp: the MSS the peer announced (536 without the option), kept
 *	so that the send MSS can be computed again when the path MTU falls
 * @pmtu_cookie: the route MTU @mss_cache was computed from, 0 for none:
 *	when the route's changes, the MSS follows (xtcp_write_xmit())
 * @mtu_info: the MTU of the last ICMP "fragmentation needed" accepted,
 *	for xtcp_v4_mtu_reduced(); written without the socket lock
 * @snd_wscale: shift applied to the peer's window field
 * @rcv_wscale: shift applied to our window field
 * @wscale_ok: window scaling negotiated
 * @ts_ok: timestamps negotiated
 * @nodelay: Nagle disabled
 * @cork: TCP_CORK: a partial last segment waits for more data
 * @pingpong: TCP_QUICKACK was set to 0 (Linux's pingpong mode); only
 *	reported, xtcp has no quick-ack mode to leave
 * @more: the write being pushed had MSG_MORE: its partial last segment
 *	is held as with @cork (set only for that push, under the lock)
 * @recvmsg_inq: TCP_INQ: recvmsg() adds a cmsg with the bytes left unread
 * @inq_xtcp: that cmsg is XTCP_CM_INQ at SOL_XTCP, the level @recvmsg_inq
 *	was set at, rather than TCP_CM_INQ at SOL_TCP
 * @orphan_counted: counted in the namespace's orphans (xtcp_close())
 * @tw_reused: connect() took the 4-tuple of a TIME_WAIT bucket; @iss
 *	was set above the bucket's snd_nxt
 * @dup_acks: consecutive duplicate ACKs
 * @num_sacks: blocks in @selective_acks
 * @selective_acks: the SACK blocks we send, most recent first (RFC 2018
 *	section 4), describing the out-of-order queue
 * @sacked_out: segments in flight marked @sacked (the scoreboard)
 * @lost_out: segments in flight marked @lost
 * @retrans_out: lost segments retransmitted in this recovery (@rexmit)
 * @in_recovery: fast recovery in progress (NewReno, SACK, or after an RTO)
 * @sack_ok: SACK negotiated (RFC 2018, net.xtcp.sack on both ends)
 * @sack_recovery: the recovery in progress is RFC 6675's, not NewReno's
 * @fin_queued: a FIN was queued (the last skb of the write queue carries it)
 * @ts_off: per-connection offset of our timestamp clock
 * @ts_recent: last timestamp value received in order (PAWS)
 * @ts_recent_stamp: seconds when @ts_recent was recorded
 * @srtt_us: smoothed RTT << 3, microseconds
 * @rttvar_us: RTT variance << 2, microseconds
 * @rto: current retransmission timeout, jiffies
 * @backoff: exponential backoff shift of @rto
 * @retransmits: consecutive timeouts without progress
 * @total_retrans: segments retransmitted over the connection's life
 * @packets_out: segments sent and not yet acknowledged
 * @cwnd: congestion window, segments
 * @cwnd_cnt: ACKs counted towards the next congestion avoidance increase
 * @cwnd_limited: the last round's sending stopped at @cwnd (RFC 7661)
 * @max_packets_out: the most segments in flight in the last round
 * @cwnd_usage_seq: @snd_nxt when that round began: it ends when acked
 * @ssthresh: slow start threshold, segments
 * @high_seq: @snd_nxt when fast recovery started (RFC 6582 "recover")
 * @ack_pending: an ACK is owed to the peer
 * @ack_quick: the owed ACK must not be delayed
 * @ack_deferred: the owed ACK is due, but the reader will send it with
 *	the window its read opens (xtcp_timers_ack_owed())
 * @probes_out: keepalive or zero-window probes without answer
 * @keepidle: XTCP_KEEPIDLE, s, 0 for the sysctl
 * @keepintvl: XTCP_KEEPINTVL, s, 0 for the sysctl
 * @keepcnt: XTCP_KEEPCNT, 0 for the sysctl
 * @linger2: XTCP_LINGER2, s, 0 for the sysctl, negative: no FIN_WAIT_2 hold
 * @msl: XTCP_MSL, ms, 0 for the sysctl
 * @user_timeout: TCP_USER_TIMEOUT, ms, 0 for none
 * @notsent_lowat: TCP_NOTSENT_LOWAT, bytes, 0 for the knob
 * @defer_accept: TCP_DEFER_ACCEPT as Linux stores it: SYN-ACK
 *	retransmissions; only reported
 * @retrans_stamp: jiffies of the first transmission of the oldest
 *	unacknowledged segment, set at its first timeout (TCP_USER_TIMEOUT)
 * @lsndtime: jiffies of the last data segment sent
 * @lrcvtime: jiffies of the last data segment received
 * @rtt_min: the lowest RTT sample of the last five minutes, microseconds
 * @stats: per-connection counters for TCP_INFO
 * @rcv_tstamp: jiffies of the last acceptable segment with a valid ACK
 *	(keepalive idle time)
 * @state_since: jiffies of the last state change (the age /proc shows)
 * @last_oow_ack: jiffies of the last answer to a segment that did not
 *	belong, 0 for none (xtcp_oow_rate_limited())
 * @send_head: first queued skb not yet sent (it may hold several
 *	segments' worth until it is sent), NULL if none
 * @out_of_order_queue: received segments beyond @rcv_nxt, an rb-tree by
 *	sequence number
 * @ooo_last_skb: the segment of @out_of_order_queue with the highest
 *	sequence number, NULL if empty
 * @retransmit_timer: RTO, SYN and zero-window probe timer
 * @delack_timer: delayed ACK timer
 * @listener: for a passive child not yet accepted, its listener
 * @accept_node: link in the listener's @accept_list
 * @acceptq_ready: on its listener's list, counted in @accept_ready rather
 *	than @accept_pending (under the listener's @accept_lock)
 * @accept_lock: protects @accept_list and @accept_node of children
 * @accept_list: children of a listener, SYN_RCVD and established
 * @accept_ready: children on @accept_list ready for accept()
 * @accept_pending: children on @accept_list still in SYN_RCVD
 * @last_cookie: jiffies of the last SYN cookie a listener sent, 0 for none
 * @req_list: a listener's half-open connections (struct xtcp_req), under
 *	its socket lock
 * @req_count: entries on @req_list
 * @deferred: timer events that found the socket owned by the user
 *
 * Locking: fields are protected by the socket lock (lock_sock() in process
 * context, bh_lock_sock() in softirq), except the accept list, which is
 * under @accept_lock of the listener because children change state in
 * softirq with only their own lock held.
 */
struct xtcp_sock {
	struct inet_sock inet;
	const struct xtcp_af_ops *af_ops;

	struct xtcp_tuple tuple;
	struct rhash_head node;
	bool hashed;

	u32 iss;
	u32 snd_una;
	u32 snd_nxt;
	u32 snd_sml;
	u32 write_seq;
	u32 snd_wnd;
	u32 snd_wl1;
	u32 snd_wl2;
	u32 max_window;

	u32 irs;
	u32 rcv_nxt;
	u32 copied_seq;
	u32 rcv_wup;
	u32 rcv_wnd;
	u32 rcvq_seq;
	unsigned long rcvq_time;

	u32 mss_cache;
	u16 advmss;
	u16 user_mss;
	u16 mss_clamp;
	u32 pmtu_cookie;
	u32 mtu_info;
	u8 snd_wscale;
	u8 rcv_wscale;
	u8 wscale_ok:1,
	   ts_ok:1,
	   nodelay:1,
	   in_recovery:1,
	   fin_queued:1,
	   ack_pending:1,
	   ack_quick:1,
	   ack_deferred:1,
	   orphan_counted:1,
	   tw_reused:1,
	   cork:1,
	   pingpong:1,
	   more:1,
	   recvmsg_inq:1,
	   inq_xtcp:1,
	   sack_ok:1,
	   sack_recovery:1;
	u8 dup_acks;
	u8 num_sacks;
	struct xtcp_sack_block selective_acks[XTCP_NUM_SACKS];
	u32 sacked_out;
	u32 lost_out;
	u32 retrans_out;

	u32 ts_off;
	u32 ts_recent;
	u32 ts_recent_stamp;

	u32 srtt_us;
	u32 rttvar_us;
	u32 rto;
	u8 backoff;
	u8 retransmits;
	u8 probes_out;
	u32 total_retrans;
	u32 packets_out;
	u32 cwnd;
	u32 cwnd_cnt;
	bool cwnd_limited;
	u32 max_packets_out;
	u32 cwnd_usage_seq;
	u32 ssthresh;
	u32 high_seq;

	int keepidle;
	int keepintvl;
	int keepcnt;
	int linger2;
	int msl;
	int user_timeout;
	u32 notsent_lowat;
	u8 defer_accept;
	unsigned long retrans_stamp;
	unsigned long lsndtime;
	unsigned long lrcvtime;
	struct minmax rtt_min;
	struct xtcp_conn_stats stats;
	unsigned long rcv_tstamp;
	unsigned long state_since;
	u32 last_oow_ack;

	struct sk_buff *send_head;
	struct rb_root out_of_order_queue;
	struct sk_buff *ooo_last_skb;

	struct timer_list retransmit_timer;
	struct timer_list delack_timer;

	struct sock *listener;
	struct list_head accept_node;
	bool acceptq_ready;
	spinlock_t accept_lock;		/* see "Locking" above */
	struct list_head accept_list;
	u32 accept_ready;
	u32 accept_pending;
	unsigned long last_cookie;
	struct hlist_head req_list;
	u32 req_count;

	unsigned long deferred;
};

static inline struct xtcp_sock *xtcp_sk(const struct sock *sk)
{
	return (struct xtcp_sock *)sk;
}

/* The retransmission timeout in use, backoff included, jiffies. */
static inline unsigned long xtcp_rto(const struct xtcp_sock *xs)
{
	return min_t(unsigned long, (unsigned long)xs->rto << xs->backoff,
		     XTCP_RTO_MAX);
}

/*
 * The timer a socket listing shows, numbered as the "tr" column of
 * /proc/net/tcp and inet_diag's idiag_timer.
 */
enum xtcp_shown_timer {
	XTCP_TR_NONE,
	XTCP_TR_RETRANS,
	XTCP_TR_KEEPALIVE,
	XTCP_TR_TIMEWAIT,
	XTCP_TR_PROBE,
};

/*
 * The timer /proc/net/xtcp and sock_diag show for @sk, with its expiry in
 * *@expires (jiffies); read without the socket lock, as TCP's listings do.
 */
static inline enum xtcp_shown_timer
xtcp_shown_timer(const struct sock *sk, unsigned long *expires)
{
	const struct xtcp_sock *xs = xtcp_sk(sk);

	if (timer_pending(&xs->retransmit_timer)) {
		*expires = READ_ONCE(xs->retransmit_timer.expires);
		return READ_ONCE(xs->packets_out) ? XTCP_TR_RETRANS :
						    XTCP_TR_PROBE;
	}
	if (timer_pending(&sk->sk_timer)) {
		*expires = READ_ONCE(sk->sk_timer.expires);
		return XTCP_TR_KEEPALIVE;
	}
	*expires = 0;
	return XTCP_TR_NONE;
}

/*
 * The queue columns of a socket listing, as TCP fills them: for a
 * listener, connections ready for accept() and the backlog; otherwise
 * bytes received and not read, and bytes queued and not acknowledged.
 */
static inline void xtcp_shown_queues(const struct sock *sk, u32 *rxq, u32 *txq)
{
	const struct xtcp_sock *xs = xtcp_sk(sk);

	if (inet_sk_state_load(sk) == TCP_LISTEN) {
		*rxq = READ_ONCE(xs->accept_ready);
		*txq = READ_ONCE(sk->sk_max_ack_backlog);
	} else {
		*rxq = max_t(int, READ_ONCE(xs->rcv_nxt) -
				  READ_ONCE(xs->copied_seq), 0);
		*txq = READ_ONCE(xs->write_seq) - READ_ONCE(xs->snd_una);
	}
}

/*
 * Segments in the network, RFC 6675's "pipe" as Linux counts it
 * (tcp_packets_in_flight()): SACKed and lost segments have left it, lost
 * ones retransmitted in this recovery are in it again.
 */
static inline u32 xtcp_packets_in_flight(const struct xtcp_sock *xs)
{
	u32 left = xs->sacked_out + xs->lost_out;

	return xs->packets_out > left ?
	       xs->packets_out - left + xs->retrans_out : xs->retrans_out;
}

/* Monotonic millisecond clock for timestamps (RFC 7323: no wall time). */
static inline u32 xtcp_clock_ms(void)
{
	return (u32)div_u64(ktime_get_ns(), NSEC_PER_MSEC);
}

static inline u32 xtcp_ts_now(const struct xtcp_sock *xs)
{
	return xtcp_clock_ms() + xs->ts_off;
}

/* The knobs of net.xtcp (Documentation/xtcp-sysctl.rst, sysctl.c). */
enum xtcp_knob_id {
	XTCP_KNOB_MSL,			/* ms; TIME_WAIT lasts twice this */
	XTCP_KNOB_MAX_TW_BUCKETS,	/* cap on TIME_WAIT entries */
	XTCP_KNOB_TW_OVERFLOW,		/* enum xtcp_tw_overflow */
	XTCP_KNOB_TW_REUSE,		/* enum xtcp_tw_reuse */
	XTCP_KNOB_TW_REUSE_DELAY,	/* ms, minimum age of a reused entry */
	XTCP_KNOB_RFC1337,		/* 1: ignore RST in TIME_WAIT */
	XTCP_KNOB_FIN_TIMEOUT,		/* s, orphaned FIN_WAIT_2 lifetime */
	XTCP_KNOB_KEEPALIVE_TIME,	/* s, idle time before probes */
	XTCP_KNOB_KEEPALIVE_INTVL,	/* s, between probes */
	XTCP_KNOB_KEEPALIVE_PROBES,	/* unanswered probes before reset */
	XTCP_KNOB_TIMESTAMPS,		/* offer RFC 7323 timestamps */
	XTCP_KNOB_SYN_RETRIES,		/* SYN retransmissions */
	XTCP_KNOB_SYNACK_RETRIES,	/* SYN-ACK retransmissions */
	XTCP_KNOB_RETRIES2,		/* data retransmissions */
	XTCP_KNOB_ORPHAN_RETRIES,	/* the same, for orphans */
	XTCP_KNOB_RTO_MIN,		/* ms, lower bound of the RTO */
	XTCP_KNOB_MAX_SYN_BACKLOG,	/* half-open connections per listener */
	XTCP_KNOB_RMEM_DEFAULT,		/* bytes, receive buffer of a socket */
	XTCP_KNOB_RMEM_MAX,		/* bytes, receive buffer growth limit */
	XTCP_KNOB_WMEM_DEFAULT,		/* bytes, send buffer of a socket */
	XTCP_KNOB_WMEM_MAX,		/* bytes, send buffer growth limit */
	XTCP_KNOB_INVALID_RATELIMIT,	/* ms between answers to bad segments */
	XTCP_KNOB_SYNCOOKIES,		/* 0 off, 1 on overflow, 2 always */
	XTCP_KNOB_MAX_ORPHANS,		/* orphaned connections at most */
	XTCP_KNOB_NOTSENT_LOWAT,	/* bytes, unsent data poll() allows */
	XTCP_KNOB_SACK,			/* 0/1: offer SACK (RFC 2018) */
	XTCP_KNOB_GSO,			/* 1: send several segments per skb */
	XTCP_KNOB_EARLY_DEMUX,		/* 1: route by the socket's cached route */
	__XTCP_KNOB_MAX
};

/**
 * struct xtcp_knobs - the sysctls of one network namespace
 * @val: one int per enum xtcp_knob_id, so that proc_dointvec_minmax()
 *	can validate it; read only through xtcp_knob() and the per-socket
 *	accessors of sysctl.c
 */
struct xtcp_knobs {
	int val[__XTCP_KNOB_MAX];
};

enum xtcp_tw_overflow {
	XTCP_TW_OVERFLOW_CLOSE_NEW,	/* Linux: no TIME_WAIT for the newcomer */
	XTCP_TW_OVERFLOW_EVICT_OLDEST,	/* FreeBSD <= 13: recycle the oldest */
};

enum xtcp_tw_reuse {
	XTCP_TW_REUSE_OFF,
	XTCP_TW_REUSE_ON,
	XTCP_TW_REUSE_LOOPBACK,
};

/**
 * struct xtcp_tw - a TIME_WAIT bucket: what a closed connection must
 * remember for 2 x MSL, and nothing more
 * @tuple: the 4-tuple, hash key
 * @last_oow_ack: jiffies of the last answer to a segment out of window,
 *	0 for none (xtcp_oow_rate_limited())
 * @node: link in the bucket table
 * @bind_node: link in the port index, so bind() sees the port in use
 * @expiry_node: link in the expiry list of its duration class
 * @expires: jiffies when the bucket dies
 * @created: jiffies when the connection entered TIME_WAIT
 * @snd_nxt: our next sequence number
 * @rcv_nxt: next sequence number expected from the peer
 * @ts_recent: peer's last timestamp, if @ts_ok
 * @ts_off: our timestamp clock offset, to answer with consistent values
 * @duration: 2 x MSL of this connection, ms
 * @rcv_wscale: the window scale we announced
 * @ts_ok: timestamps were in use
 * @reuse: the socket had SO_REUSEADDR (bind() may take the port)
 * @dead: unlinked, waiting for RCU readers to finish
 * @v6: the socket was an AF_INET6 one (an IPv4-mapped connection too)
 * @v6only: and it had IPV6_V6ONLY: for bind() conflicts
 * @tos: the socket's IPv4 TOS or IPv6 traffic class, for its ACKs
 * @txhash: the socket's flow hash (sk_txhash), for its ACKs
 * @flowlabel: the socket's IPv6 flow label (ipv6_pinfo.flow_label)
 * @rcu: deferred free; lookups run under RCU. It shares its room with
 *	@expiry_node, which only writers under bind_lock follow and which
 *	is unlinked before the free is queued
 */
struct xtcp_tw {
	struct xtcp_tuple tuple;
	u32 last_oow_ack;
	struct rhash_head node;
	struct hlist_node bind_node;
	union {
		struct list_head expiry_node;
		struct rcu_head rcu;
	};
	unsigned long expires;
	unsigned long created;
	u32 snd_nxt;
	u32 rcv_nxt;
	u32 ts_recent;
	u32 ts_off;
	u32 duration;
	u8 rcv_wscale;
	u8 ts_ok:1,
	   reuse:1,
	   v6:1,
	   v6only:1;
	u8 dead;
	u8 tos;
	u32 txhash;
	__be32 flowlabel;
};

/**
 * struct xtcp_req - a half-open passive connection (SYN_RCVD): what the
 * handshake needs until the ACK of our SYN-ACK creates the socket, and
 * nothing more (Documentation/xtcp-internals.rst "Half-open connections")
 * @tuple: the 4-tuple, hash key
 * @iss: our initial sequence number (the SYN-ACK's)
 * @node: link in the namespace's request table
 * @list_node: link in the listener's @req_list
 * @listener: the listener, a reference held until the entry is freed
 * @timer: SYN-ACK retransmission; holds a reference while pending
 * @rcu: deferred free; lookups and /proc run under RCU
 * @created: jiffies when the SYN arrived, the low 32 bits
 * @irs: the peer's initial sequence number
 * @ts_recent: the SYN's TSval, if @ts_ok
 * @ts_off: our timestamp clock offset
 * @last_oow_ack: jiffies of the last answer to a segment that did not
 *	belong, 0 for none (xtcp_oow_rate_limited())
 * @refcnt: the tables' reference and the pending timer's
 * @peer_mss: the SYN's MSS option, 0 if absent
 * @advmss: the MSS our SYN-ACK announces
 * @snd_wscale: the SYN's window scale, -1 if absent
 * @retransmits: SYN-ACK retransmissions so far
 * @ts_ok: timestamps negotiated
 * @sack_ok: SACK negotiated
 * @dead: unlinked: the timer only drops its reference
 * @txhash: flow hash of the entry's segments and then of the socket
 *	(sk_txhash); a new one for each SYN-ACK retransmission if the
 *	listener allows rehashing (SO_TXREHASH)
 * @flowlabel: the SYN's IPv6 flow label, sent back if the listener
 *	reflects flow labels (IPV6_FL_F_REFLECT, net.ipv6.flowlabel_reflect)
 *
 * Locking: every field but @refcnt is written under the listener's socket
 * lock (owned, or its spinlock in softirq); @dead is also written under
 * the spinlock when the owner kills an entry, so that the timer, which
 * holds only the spinlock, sees it.
 */
struct xtcp_req {
	struct xtcp_tuple tuple;
	u32 iss;
	struct rhash_head node;
	struct hlist_node list_node;
	struct sock *listener;
	struct timer_list timer;
	struct rcu_head rcu;
	u32 created;
	u32 irs;
	u32 ts_recent;
	u32 ts_off;
	u32 last_oow_ack;
	refcount_t refcnt;
	u16 peer_mss;
	u16 advmss;
	s8 snd_wscale;
	u8 retransmits;
	u8 ts_ok:1,
	   sack_ok:1;
	u8 dead;
	u32 txhash;
	__be32 flowlabel;
};

/**
 * struct xtcp_tw_table - the TIME_WAIT buckets of a namespace
 * @hash: buckets by 4-tuple, RCU lookups
 * @classes: the duration classes by duration in ms, each with its expiry
 *	list and timer (timewait.c)
 * @bhash: buckets by local port, for bind() conflicts
 * @count: number of buckets
 * @dying: the namespace is going away: no new buckets, no timer acts
 *
 * All under the namespace's bind_lock (timewait.c).
 */
struct xtcp_tw_table {
	struct rhashtable hash;
	struct xarray classes;
	struct hlist_head bhash[XTCP_BHASH_SIZE];
	u32 count;
	bool dying;
};

/**
 * struct xtcp_net - per network namespace state
 * @knobs: the sysctl values
 * @sysctl_hdr: registration of this namespace's net.xtcp table
 * @mib: per-cpu counters
 * @ehash: connections by 4-tuple (SYN_SENT to LAST_ACK), RCU lookups
 * @reqhash: half-open passive connections (struct xtcp_req) by 4-tuple,
 *	RCU lookups
 * @bind_lock: serializes writers of @bhash, @lhash and the TIME_WAIT
 *	port index; taken with BHs off
 * @bhash: sockets holding a local port, by port (sk_bind_node)
 * @lhash: listeners by port (sk_node), RCU lookups
 * @port_hint: RFC 6056 algorithm 3 counter for ephemeral ports
 * @orphans: connections closed by their application and not yet CLOSED
 * @tw: TIME_WAIT buckets
 */
struct xtcp_net {
	struct xtcp_knobs knobs;
	struct ctl_table_header *sysctl_hdr;
	DEFINE_SNMP_STAT(struct xtcp_mib, mib);
	struct rhashtable ehash;
	struct rhashtable reqhash;
	spinlock_t bind_lock;		/* see above and hash.c */
	struct hlist_head bhash[XTCP_BHASH_SIZE];
	struct hlist_head lhash[XTCP_BHASH_SIZE];
	u32 port_hint;
	struct percpu_counter orphans;
	struct xtcp_tw_table tw;
};

extern unsigned int xtcp_net_id;

static inline struct xtcp_net *xtcp_pernet(const struct net *net)
{
	return net_generic(net, xtcp_net_id);
}

static inline struct xtcp_mib __percpu *xtcp_mib_of(const struct net *net)
{
	return xtcp_pernet(net)->mib;
}

/* main.c */
extern int xtcp_protocol;
/* For xtcp_diag.ko (diag.c), exported in namespace XTCP with
 * xtcp_ehash_lookup(), xtcp_listener_lookup(), xtcp_tw_expires() and
 * xtcp_get_tcp_info().
 */
int xtcp_proto_number(void);
struct xtcp_net *xtcp_net_of(const struct net *net);

/* ipv4.c */
extern const struct xtcp_af_ops xtcp_v4_af_ops;
int xtcp_v4_init(void);
void xtcp_v4_exit(void);
int xtcp_offload_init(void);
void xtcp_offload_exit(void);
int xtcp_v4_pre_connect(struct sock *sk, struct sockaddr *uaddr, int addr_len);
int xtcp_v4_connect(struct sock *sk, struct sockaddr *uaddr, int addr_len);
void xtcp_v4_send_check(const struct sock *sk, struct tcphdr *th,
			unsigned int len);
int xtcp_v4_rcv(struct sk_buff *skb);
int xtcp_v4_edemux_net_init(struct net *net);
void xtcp_v4_edemux_net_exit(struct net *net);

/* ipv6.c */
extern const struct xtcp_af_ops xtcp_v6_af_ops;
int xtcp_v6_init(void);
int xtcp_v6_edemux_net_init(struct net *net);
void xtcp_v6_edemux_net_exit(struct net *net);
void xtcp_v6_exit(void);
void xtcp_v6_send_check(const struct sock *sk, struct tcphdr *th,
			unsigned int len);
int inet6_csk_xmit(struct sock *sk, struct sk_buff *skb, struct flowi *fl);
void xtcp_v6_mapped_child_init(struct sock *child, const struct sk_buff *skb);

/*
 * The operations of the family a received segment came in by, or a
 * 4-tuple belongs to.
 */
static inline const struct xtcp_af_ops *
xtcp_af_ops_of_skb(const struct sk_buff *skb)
{
	if (skb->protocol == htons(ETH_P_IPV6))
		return &xtcp_v6_af_ops;
	return &xtcp_v4_af_ops;
}

static inline const struct xtcp_af_ops *
xtcp_af_ops_of_tuple(const struct xtcp_tuple *t)
{
	if (!xtcp_tuple_is_v4(t))
		return &xtcp_v6_af_ops;
	return &xtcp_v4_af_ops;
}

/* Per-segment calls through a socket's operations, devirtualized as
 * INDIRECT_CALL_INET() does for TCP.
 */
static inline int xtcp_queue_xmit(struct sock *sk, struct sk_buff *skb,
				  struct flowi *fl)
{
	return INDIRECT_CALL_2(xtcp_sk(sk)->af_ops->queue_xmit,
			       inet6_csk_xmit, ip_queue_xmit, sk, skb, fl);
}

static inline void xtcp_send_check(const struct sock *sk,
				   struct tcphdr *th, unsigned int len)
{
	INDIRECT_CALL_2(xtcp_sk(sk)->af_ops->send_check, xtcp_v6_send_check,
			xtcp_v4_send_check, sk, th, len);
}

static inline void xtcp_tuple_of_skb(const struct sk_buff *skb,
				     struct xtcp_tuple *t)
{
	xtcp_af_ops_of_skb(skb)->tuple_of_skb(skb, t);
}

static inline int xtcp_iif(const struct sk_buff *skb)
{
	return xtcp_af_ops_of_skb(skb)->iif(skb);
}

static inline void xtcp_send_reset(struct net *net, struct sk_buff *in)
{
	xtcp_af_ops_of_skb(in)->send_reset(net, in);
}

/* @m NULL: a reply of no socket, as a RST to an unknown 4-tuple. */
static inline void xtcp_send_reply(struct net *net, struct sk_buff *in,
				   const struct xtcp_tx_meta *m, u32 seq,
				   u32 ack, u8 flags, u16 win,
				   const struct xtcp_opts *opts)
{
	xtcp_af_ops_of_skb(in)->send_reply(net, in, m, seq, ack, flags, win,
					   opts);
}

static inline void xtcp_send_tuple(struct net *net,
				   const struct xtcp_tuple *t,
				   const struct xtcp_tx_meta *m, u32 seq,
				   u32 ack, u8 flags, u16 win,
				   const struct xtcp_opts *opts)
{
	xtcp_af_ops_of_tuple(t)->send_tuple(net, t, m, seq, ack, flags, win,
					    opts);
}

/* proto.c */
extern struct proto xtcp_prot;
extern const struct proto_ops xtcp_stream_ops;
extern const struct proto_ops xtcp6_stream_ops;
void __xtcp_set_state(struct sock *sk, int state, bool attempt);
void xtcp_set_state(struct sock *sk, int state);
void xtcp_sync_mss(struct sock *sk, u32 peer_mss);
void xtcp_set_advmss(struct sock *sk);
void xtcp_init_conn(struct sock *sk);
u32 xtcp_initial_rcv_wnd(const struct sock *sk);
u8 xtcp_select_wscale(const struct sock *sk);
int xtcp_connect(struct sock *sk);
void xtcp_done(struct sock *sk);
int xtcp_orphans_net_init(struct xtcp_net *xn);
void xtcp_orphans_net_exit(struct xtcp_net *xn);
void xtcp_reset(struct sock *sk);

/* sockopt.c */
int xtcp_setsockopt(struct sock *sk, int level, int optname,
		    sockptr_t optval, unsigned int optlen);
int xtcp_getsockopt(struct sock *sk, int level, int optname,
		    char __user *optval, int __user *optlen);
void xtcp_keepalive(struct sock *sk, int valbool);
void xtcp_get_tcp_info(struct sock *sk, struct tcp_info *info);

/* listen.c */
int xtcp_listen(struct socket *sock, int backlog);
struct sock *xtcp_accept(struct sock *sk, struct proto_accept_arg *arg);
void xtcp_listen_end(struct sock *sk);
void xtcp_listen_rcv(struct sock *sk, struct sk_buff *skb,
		     const struct xtcp_opts *opts);
void xtcp_conn_request(struct sock *sk, struct sk_buff *skb,
		       const struct xtcp_opts *opts);
void xtcp_child_ready(struct sock *sk);
void xtcp_child_abort(struct sock *sk);

/* request.c */
int xtcp_req_init(void);
void xtcp_req_exit(void);
struct xtcp_req *xtcp_req_create(struct sock *sk, const struct sk_buff *skb,
				 const struct xtcp_opts *opts);
struct xtcp_req *xtcp_req_lookup(struct sock *sk, const struct xtcp_tuple *t);
void xtcp_listener_tx_meta(const struct sock *sk, const struct xtcp_tuple *t,
			   struct xtcp_tx_meta *m);
void xtcp_req_send_synack(struct xtcp_req *req);
void xtcp_req_send_ack(struct xtcp_req *req);
void xtcp_req_drop(struct xtcp_req *req);
void xtcp_req_err(struct net *net, int iif, const struct xtcp_tuple *t,
		  u32 seq, bool abort);
void xtcp_req_flush(struct sock *sk);

/* input.c */
enum skb_drop_reason xtcp_rcv_check_header(struct sk_buff *skb);
enum skb_drop_reason xtcp_rcv_prepare(struct sk_buff *skb);
void xtcp_rcv_pull(struct sk_buff *skb);
enum skb_drop_reason xtcp_rcv_sock(struct sock *sk, struct sk_buff *skb);
int xtcp_do_rcv(struct sock *sk, struct sk_buff *skb);
void xtcp_rcv_state_process(struct sock *sk, struct sk_buff *skb,
			    const struct xtcp_opts *opts);
void xtcp_init_rcv_seq(struct sock *sk, u32 irs);
void xtcp_ofo_purge(struct sock *sk);
bool xtcp_oow_rate_limited(struct net *net, u32 *last,
			   enum xtcp_mib_field mib);
void xtcp_apply_syn_options(struct sock *sk, const struct xtcp_opts *opts);

/* output.c */
struct sk_buff *xtcp_alloc_data_skb(struct sock *sk, gfp_t gfp);
void xtcp_queue_data_skb(struct sock *sk, struct sk_buff *skb);
u32 xtcp_free_window(const struct sock *sk);
struct sk_buff *xtcp_rightsize(struct net *net, struct sk_buff *skb);
bool xtcp_edemux_wanted(struct net *net, struct sk_buff *skb);
void xtcp_edemux(struct net *net, struct sk_buff *skb,
		 const struct xtcp_tuple *t, unsigned short family);
struct sock *xtcp_steal_sock(struct sk_buff *skb);
void xtcp_rx_dst_set(struct sock *sk, const struct sk_buff *skb, u32 cookie);
void xtcp_write_xmit(struct sock *sk, bool force_push);
bool xtcp_write_wakeup(struct sock *sk);
int xtcp_retransmit_skb(struct sock *sk, struct sk_buff *skb);
int xtcp_retransmit_head(struct sock *sk);
void xtcp_retransmit_mtu(struct sock *sk);
int xtcp_queue_syn(struct sock *sk);
int xtcp_send_syn(struct sock *sk);
void xtcp_write_queue_purge(struct sock *sk);
void xtcp_send_fin(struct sock *sk);
void xtcp_send_ack(struct sock *sk);
void xtcp_send_probe(struct sock *sk);
void xtcp_send_active_reset(struct sock *sk, gfp_t gfp);
void xtcp_wmem_free_skb(struct sock *sk, struct sk_buff *skb);
u32 xtcp_skb_pcount(const struct sk_buff *skb, u32 una);
struct sk_buff *xtcp_trim_acked(struct sock *sk);
int xtcp_split_skb(struct sock *sk, struct sk_buff *skb, u32 len);
struct tcphdr *xtcp_push_header(struct sk_buff *skb, __be16 sport,
				__be16 dport, u32 seq, u32 ack, u8 flags,
				u16 window, const struct xtcp_opts *opts,
				const struct xtcp_sack_block *sack);

/* sack.c */
void xtcp_sack_new_ofo(struct sock *sk, u32 seq, u32 end_seq);
void xtcp_sack_remove(struct sock *sk);
u8 xtcp_sack_blocks_to_send(const struct sock *sk,
			    const struct xtcp_opts *opts, u32 payload);
void xtcp_sack_ack(struct sock *sk, const struct sk_buff *skb,
		   const struct xtcp_opts *opts, u32 prior_una, u32 dupthresh);
void xtcp_sack_clear_scoreboard(struct sock *sk);

/* syncookies.c */
u32 xtcp_cookie_init_seq(const struct xtcp_tuple *t, u32 peer_isn, u16 *mss);
u16 xtcp_cookie_check(const struct xtcp_tuple *t, u32 peer_isn, u32 cookie);
u32 xtcp_cookie_tsval(u32 tsval, int wscale, bool sack);
int xtcp_cookie_wscale(u32 tsecr);
bool xtcp_cookie_sack(u32 tsecr);

/* options.c */
int xtcp_parse_options(const struct tcphdr *th, bool syn,
		       struct xtcp_opts *opts);
unsigned int xtcp_options_size(const struct xtcp_opts *opts);
unsigned int xtcp_sack_room(const struct xtcp_opts *opts);
void xtcp_write_options(__be32 *ptr, const struct xtcp_opts *opts,
			const struct xtcp_sack_block *sack);

/* timer.c */
void xtcp_timers_init(struct sock *sk);
void xtcp_timers_stop(struct sock *sk);
void xtcp_release_cb(struct sock *sk);
void xtcp_timers_defer(struct sock *sk, enum xtcp_timer_event ev);
void xtcp_timers_keepalive_changed(struct sock *sk);
void xtcp_timers_orphan_fin_wait2(struct sock *sk);
void xtcp_timers_ack_owed(struct sock *sk, bool quick);
void xtcp_timers_ack_sent(struct sock *sk);
void xtcp_timers_established(struct sock *sk);
void xtcp_timers_syn_acked(struct sock *sk);
void xtcp_timers_syn_stale_ack(struct sock *sk);
void xtcp_timers_data_sent(struct sock *sk);
void xtcp_timers_data_acked(struct sock *sk);
void xtcp_timers_window_closed(struct sock *sk);
void xtcp_timers_window_opened(struct sock *sk);

/* hash.c */
int xtcp_hash_net_init(struct xtcp_net *xn);
void xtcp_hash_net_exit(struct xtcp_net *xn);
int xtcp_ehash_insert(struct sock *sk);
void xtcp_ehash_remove(struct sock *sk);
struct sock *xtcp_ehash_lookup(struct net *net, const struct xtcp_tuple *t);
int xtcp_reqhash_insert(struct net *net, struct xtcp_req *req);
void xtcp_reqhash_remove(struct net *net, struct xtcp_req *req);
struct xtcp_req *xtcp_reqhash_lookup(struct net *net,
				     const struct xtcp_tuple *t);
struct sock *xtcp_listener_lookup(struct net *net,
				  const struct in6_addr *daddr,
				  __be16 dport, int dif);
int xtcp_get_port(struct sock *sk, unsigned short snum);
void xtcp_put_port(struct sock *sk);
void xtcp_inherit_port(struct sock *child);
int xtcp_listen_start(struct sock *sk);
void xtcp_listen_stop(struct sock *sk);
int xtcp_hash_connect(struct sock *sk);
u32 xtcp_port_offset(const struct xtcp_tuple *t);
u32 xtcp_secure_seq(const struct xtcp_tuple *t, u32 *ts_off);
bool xtcp_bind_addr_overlap(const struct xtcp_bind_addr *a,
			    const struct xtcp_bind_addr *b);

/* timewait.c */
int xtcp_tw_init(void);
void xtcp_tw_exit(void);
int xtcp_tw_net_init(struct xtcp_net *xn);
void xtcp_tw_net_exit(struct xtcp_net *xn);
void xtcp_time_wait(struct sock *sk);
bool xtcp_tw_rcv(struct net *net, struct sk_buff *skb,
		 const struct xtcp_tuple *t);
int xtcp_tw_check_reuse(struct sock *sk);
bool xtcp_tw_port_conflict(struct xtcp_net *xn,
			   const struct xtcp_bind_addr *addr, u16 port,
			   bool reuse);
u32 xtcp_tw_count(struct net *net);
bool xtcp_tw_expires(struct net *net, const struct xtcp_tuple *t,
		     unsigned long *expires, bool *v6);

/* mem.c */
extern atomic_long_t xtcp_memory_allocated;
DECLARE_PER_CPU(int, xtcp_memory_per_cpu_fw_alloc);
extern struct percpu_counter xtcp_sockets_allocated;
extern unsigned long xtcp_memory_pressure;
extern long xtcp_sysctl_mem[3];
extern int xtcp_sysctl_rmem[3];
extern int xtcp_sysctl_wmem[3];
void xtcp_enter_memory_pressure(struct sock *sk);
void xtcp_leave_memory_pressure(struct sock *sk);
void xtcp_sock_destruct(struct sock *sk);
void xtcp_mem_inherit_memcg(struct sock *child, const struct sock *listener);
void xtcp_rmem_force(struct sock *sk, int size);
bool xtcp_memcg_over_max(const struct sock *sk);
int xtcp_mem_init(void);
void xtcp_mem_exit(void);

/* sysctl.c */
int xtcp_knob(const struct net *net, enum xtcp_knob_id id);
bool xtcp_knob_valid(enum xtcp_knob_id id, int val);
int xtcp_keepidle(const struct sock *sk);
int xtcp_keepintvl(const struct sock *sk);
int xtcp_keepcnt(const struct sock *sk);
int xtcp_msl(const struct sock *sk);
int xtcp_fin_timeout(const struct sock *sk);
u32 xtcp_notsent_lowat(const struct sock *sk);
void xtcp_knobs_init(struct xtcp_knobs *knobs);
int xtcp_sysctl_net_init(struct net *net);
void xtcp_sysctl_net_exit(struct net *net);

/* proc.c */
int xtcp_proc_net_init(struct net *net);
void xtcp_proc_net_exit(struct net *net);

#endif /* _XTCP_H */
