/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xtcp counters: one per-cpu array per network namespace, shown by name in
 * /proc/net/xtcp_stats (mib.c). Names follow RFC 1213's tcp group where it
 * has one, and Linux's TcpExt otherwise.
 */
#ifndef _XTCP_MIB_H
#define _XTCP_MIB_H

#include <net/net_namespace.h>
#include <net/snmp.h>

enum xtcp_mib_field {
	XTCP_MIB_ACTIVEOPENS,		/* connect() sent a SYN */
	XTCP_MIB_PASSIVEOPENS,		/* a listener created a child */
	XTCP_MIB_ATTEMPTFAILS,		/* SYN_SENT or SYN_RCVD -> CLOSED */
	XTCP_MIB_ESTABRESETS,		/* ESTABLISHED or CLOSE_WAIT -> CLOSED */
	XTCP_MIB_CURRESTAB,		/* gauge: in ESTABLISHED or CLOSE_WAIT */
	XTCP_MIB_INSEGS,		/* segments received, errors included */
	XTCP_MIB_OUTSEGS,		/* segments sent, retransmissions included */
	XTCP_MIB_RETRANSSEGS,		/* segments retransmitted */
	XTCP_MIB_INERRS,		/* malformed segments dropped */
	XTCP_MIB_INCSUMERRORS,		/* ... of which with a bad checksum */
	XTCP_MIB_OUTRSTS,		/* RSTs sent */
	XTCP_MIB_TWOVERFLOW,		/* max_tw_buckets: no entry, or evicted */
	XTCP_MIB_TWREUSED,		/* connect() reused a TIME_WAIT 4-tuple */
	XTCP_MIB_TWKILLEDBYRST,		/* a RST ended a TIME_WAIT entry */
	XTCP_MIB_TWRECYCLEDBYSYN,	/* a new SYN took over a TIME_WAIT entry */
	XTCP_MIB_KEEPALIVEPROBES,	/* keepalive probes sent */
	XTCP_MIB_KEEPALIVETIMEOUTS,	/* connections ended by keepalive */
	XTCP_MIB_LINGERABORTS,		/* close() with SO_LINGER 0 sent a RST */
	XTCP_MIB_LISTENDROPS,		/* SYNs dropped by a full listener */
	XTCP_MIB_OFOQUEUE,		/* segments queued out of order */
	XTCP_MIB_OFODROP,		/* ... dropped: receive buffer full */
	XTCP_MIB_OFOPRUNED,		/* ... freed for in-order data */
	XTCP_MIB_RCVQDROP,		/* in-order data dropped: buffer full */
	XTCP_MIB_ACKSKIPPEDSYNRECV,	/* repeated SYN in SYN_RCVD unanswered */
	XTCP_MIB_ACKSKIPPEDSEQ,		/* out of window or PAWS: unanswered */
	XTCP_MIB_ACKSKIPPEDCHALLENGE,	/* RFC 5961 challenge ACK skipped */
	XTCP_MIB_ACKSKIPPEDTIMEWAIT,	/* TIME_WAIT answer skipped */
	XTCP_MIB_SYNCOOKIESSENT,	/* SYN-ACKs sent with a cookie */
	XTCP_MIB_SYNCOOKIESRECV,	/* ACKs returning a good cookie */
	XTCP_MIB_SYNCOOKIESFAILED,	/* ACKs at a listener, not a cookie */
	XTCP_MIB_ABORTONMEMORY,		/* close() reset: too many orphans */
	XTCP_MIB_OUTOFWINDOWICMPS,	/* ICMP errors quoting no seq in flight */
	XTCP_MIB_SACKRECOVERY,		/* RFC 6675 loss recoveries entered */
	XTCP_MIB_SACKRETRANS,		/* segments they retransmitted */
	XTCP_MIB_SACKDISCARD,		/* SACK blocks ignored: out of window */
	XTCP_MIB_DSACKRECV,		/* D-SACK blocks received (ignored) */
	XTCP_MIB_OUTGSOSKBS,		/* skbs sent carrying several segments */
	XTCP_MIB_BACKLOGDROP,		/* dropped: the socket's backlog full */
	XTCP_MIB_TIMEOUTREHASH,		/* timeouts that drew a new flow hash */
	XTCP_MIB_MINTTLDROP,		/* dropped: below IP_MINTTL or IPV6_MINHOPCOUNT */
	XTCP_MIB_INGSOSKBS,		/* skbs received carrying several segments */
	XTCP_MIB_INTRUESIZECOPIES,	/* received skbs copied: truesize too big */
	XTCP_MIB_INEARLYDEMUX,		/* routed by their socket's cached route */
	__XTCP_MIB_MAX
};

/**
 * struct xtcp_mib - the counters of one CPU
 * @mibs: one slot per enum xtcp_mib_field
 */
struct xtcp_mib {
	unsigned long mibs[__XTCP_MIB_MAX];
};

struct seq_file;

/* The namespace's array: defined in xtcp.h, beside struct xtcp_net. */
static inline struct xtcp_mib __percpu *xtcp_mib_of(const struct net *net);

int xtcp_mib_net_init(struct net *net);
void xtcp_mib_net_exit(struct net *net);
int xtcp_mib_seq_show(struct seq_file *seq, void *v);

static inline void XTCP_INC_STATS(const struct net *net,
				  enum xtcp_mib_field field)
{
	SNMP_INC_STATS(xtcp_mib_of(net), field);
}

static inline void XTCP_ADD_STATS(const struct net *net,
				  enum xtcp_mib_field field, int val)
{
	SNMP_ADD_STATS(xtcp_mib_of(net), field, val);
}

static inline void XTCP_DEC_STATS(const struct net *net,
				  enum xtcp_mib_field field)
{
	SNMP_DEC_STATS(xtcp_mib_of(net), field);
}

#endif /* _XTCP_MIB_H */
