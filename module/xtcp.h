/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xtcp private header: the socket, the per-namespace state and the
 * prototypes shared between files, grouped by the file that defines them.
 */
#ifndef _XTCP_H
#define _XTCP_H

#include <linux/types.h>
#include <net/inet_sock.h>
#include <net/netns/generic.h>
#include <net/snmp.h>
#include <uapi/linux/xtcp.h>

/**
 * struct xtcp_sock - an xtcp socket
 * @inet: the generic IPv4 socket; must stay first (inet_sk() casts)
 */
struct xtcp_sock {
	struct inet_sock inet;
};

static inline struct xtcp_sock *xtcp_sk(const struct sock *sk)
{
	return (struct xtcp_sock *)sk;
}

/* Counters, shown by name in /proc/net/xtcp_stats (see proc.c). */
enum xtcp_mib_field {
	XTCP_MIB_ACTIVEOPENS,
	XTCP_MIB_PASSIVEOPENS,
	XTCP_MIB_ATTEMPTFAILS,
	XTCP_MIB_ESTABRESETS,
	XTCP_MIB_CURRESTAB,
	XTCP_MIB_INSEGS,
	XTCP_MIB_OUTSEGS,
	XTCP_MIB_RETRANSSEGS,
	XTCP_MIB_INERRS,
	XTCP_MIB_INCSUMERRORS,
	XTCP_MIB_OUTRSTS,
	XTCP_MIB_TIMEWAIT,
	XTCP_MIB_TWOVERFLOW,
	XTCP_MIB_TWREUSED,
	XTCP_MIB_TWKILLEDBYRST,
	XTCP_MIB_TWRECYCLEDBYSYN,
	XTCP_MIB_KEEPALIVEPROBES,
	XTCP_MIB_KEEPALIVETIMEOUTS,
	XTCP_MIB_LINGERABORTS,
	__XTCP_MIB_MAX
};

struct xtcp_mib {
	unsigned long mibs[__XTCP_MIB_MAX];
};

/**
 * struct xtcp_knobs - the sysctls of one network namespace
 * @sysctl_msl: maximum segment lifetime, ms; TIME_WAIT lasts twice this
 * @sysctl_max_tw_buckets: cap on TIME_WAIT entries
 * @sysctl_tw_overflow: policy when the cap is reached (enum xtcp_tw_overflow)
 * @sysctl_tw_reuse: TIME_WAIT reuse on connect (enum xtcp_tw_reuse)
 * @sysctl_tw_reuse_delay: minimum age of a reusable TIME_WAIT entry, ms
 * @sysctl_rfc1337: ignore RST in TIME_WAIT when 1
 * @sysctl_fin_timeout: lifetime of an orphaned FIN_WAIT_2 socket, s
 * @sysctl_keepalive_time: idle time before the first keepalive probe, s
 * @sysctl_keepalive_intvl: time between keepalive probes, s
 * @sysctl_keepalive_probes: unanswered probes before the connection is dropped
 *
 * Each is an int so that proc_dointvec_minmax() can validate it; readers
 * on fast paths use READ_ONCE() because writers do not lock.
 */
struct xtcp_knobs {
	int sysctl_msl;
	int sysctl_max_tw_buckets;
	int sysctl_tw_overflow;
	int sysctl_tw_reuse;
	int sysctl_tw_reuse_delay;
	int sysctl_rfc1337;
	int sysctl_fin_timeout;
	int sysctl_keepalive_time;
	int sysctl_keepalive_intvl;
	int sysctl_keepalive_probes;
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
 * struct xtcp_net - per network namespace state
 * @knobs: the sysctl values
 * @sysctl_hdr: registration of this namespace's net.xtcp table
 * @mib: per-cpu counters
 */
struct xtcp_net {
	struct xtcp_knobs knobs;
	struct ctl_table_header *sysctl_hdr;
	DEFINE_SNMP_STAT(struct xtcp_mib, mib);
};

extern unsigned int xtcp_net_id;

static inline struct xtcp_net *xtcp_pernet(const struct net *net)
{
	return net_generic(net, xtcp_net_id);
}

#define XTCP_INC_STATS(net, field) \
	SNMP_INC_STATS(xtcp_pernet(net)->mib, field)
#define XTCP_DEC_STATS(net, field) \
	SNMP_DEC_STATS(xtcp_pernet(net)->mib, field)

/* main.c */
extern int xtcp_protocol;

/* ipv4.c */
int xtcp_v4_init(void);
void xtcp_v4_exit(void);

/* proto.c */
extern struct proto xtcp_prot;
extern const struct proto_ops xtcp_stream_ops;

/* sysctl.c */
void xtcp_knobs_init(struct xtcp_knobs *knobs);
int xtcp_sysctl_net_init(struct net *net);
void xtcp_sysctl_net_exit(struct net *net);

/* proc.c */
int xtcp_proc_net_init(struct net *net);
void xtcp_proc_net_exit(struct net *net);

#endif /* _XTCP_H */
