// SPDX-License-Identifier: GPL-2.0
/*
 * Per-namespace knobs under net.xtcp, and the accessors the rest of the
 * module reads them through.
 *
 * One table below names every knob with its default and range; the
 * defaults, the bounds checked on write (sysctl and socket options alike)
 * and the documentation in Documentation/xtcp-sysctl.rst all follow it.
 * Two pairs of knobs bound each other, as SCTP's rto_min and rto_max do:
 * rmem_default <= rmem_max and wmem_default <= wmem_max.
 *
 * Each namespace gets its own copy of the ctl_table pointing into its own
 * struct xtcp_knobs, so a write in one namespace changes nothing in
 * another. Writes need CAP_NET_ADMIN over the namespace (mode 0644 as
 * judged by net_ctl_permissions()); an out-of-range write fails with
 * EINVAL and leaves the value unchanged (proc_dointvec_minmax()). Writers
 * do not lock: readers use READ_ONCE() through the accessors below.
 */

#include <linux/slab.h>
#include <linux/sysctl.h>
#include <net/net_namespace.h>

#include "xtcp.h"

#define XTCP_KNOB_UNTIED	(-1)

/**
 * struct xtcp_knob - what defines a knob
 * @name: file name under /proc/sys/net/xtcp
 * @def: default
 * @min: smallest value
 * @max: largest value
 * @lo: knob whose value is also a lower bound, or XTCP_KNOB_UNTIED
 * @hi: knob whose value is also an upper bound, or XTCP_KNOB_UNTIED
 */
struct xtcp_knob {
	const char *name;
	int def;
	int min;
	int max;
	s8 lo;
	s8 hi;
};

#define XTCP_KNOB_TIED(_id, _name, _def, _min, _max, _lo, _hi)		\
	[_id] = {							\
		.name = _name,						\
		.def = _def,						\
		.min = _min,						\
		.max = _max,						\
		.lo = _lo,						\
		.hi = _hi,						\
	}

#define XTCP_KNOB(_id, _name, _def, _min, _max)				\
	XTCP_KNOB_TIED(_id, _name, _def, _min, _max, XTCP_KNOB_UNTIED,	\
		       XTCP_KNOB_UNTIED)

static const struct xtcp_knob xtcp_knob_table[__XTCP_KNOB_MAX] = {
	XTCP_KNOB(XTCP_KNOB_MSL, "msl", 30000, 1, 600000),
	XTCP_KNOB(XTCP_KNOB_MAX_TW_BUCKETS, "max_tw_buckets", 18000, 0,
		  INT_MAX),
	XTCP_KNOB(XTCP_KNOB_TW_OVERFLOW, "tw_overflow",
		  XTCP_TW_OVERFLOW_CLOSE_NEW, XTCP_TW_OVERFLOW_CLOSE_NEW,
		  XTCP_TW_OVERFLOW_EVICT_OLDEST),
	XTCP_KNOB(XTCP_KNOB_TW_REUSE, "tw_reuse", XTCP_TW_REUSE_LOOPBACK,
		  XTCP_TW_REUSE_OFF, XTCP_TW_REUSE_LOOPBACK),
	XTCP_KNOB(XTCP_KNOB_TW_REUSE_DELAY, "tw_reuse_delay", 1000, 1, 60000),
	XTCP_KNOB(XTCP_KNOB_RFC1337, "rfc1337", 0, 0, 1),
	XTCP_KNOB(XTCP_KNOB_FIN_TIMEOUT, "fin_timeout", 60, 1, 3600),
	XTCP_KNOB(XTCP_KNOB_KEEPALIVE_TIME, "keepalive_time", 7200, 1, 32767),
	XTCP_KNOB(XTCP_KNOB_KEEPALIVE_INTVL, "keepalive_intvl", 75, 1, 32767),
	XTCP_KNOB(XTCP_KNOB_KEEPALIVE_PROBES, "keepalive_probes", 9, 1, 127),
	XTCP_KNOB(XTCP_KNOB_TIMESTAMPS, "timestamps", 1, 0, 1),
	XTCP_KNOB(XTCP_KNOB_SYN_RETRIES, "syn_retries", 6, 1, 127),
	XTCP_KNOB(XTCP_KNOB_SYNACK_RETRIES, "synack_retries", 5, 1, 127),
	XTCP_KNOB(XTCP_KNOB_RETRIES2, "retries2", 15, 1, 127),
	XTCP_KNOB(XTCP_KNOB_ORPHAN_RETRIES, "orphan_retries", 8, 1, 127),
	XTCP_KNOB(XTCP_KNOB_RTO_MIN, "rto_min", 200, 1, 120000),
	XTCP_KNOB(XTCP_KNOB_MAX_SYN_BACKLOG, "max_syn_backlog", 1024, 1,
		  65535),
	XTCP_KNOB_TIED(XTCP_KNOB_RMEM_DEFAULT, "rmem_default", 131072, 4096,
		       1 << 30, XTCP_KNOB_UNTIED, XTCP_KNOB_RMEM_MAX),
	XTCP_KNOB_TIED(XTCP_KNOB_RMEM_MAX, "rmem_max", 6291456, 4096, 1 << 30,
		       XTCP_KNOB_RMEM_DEFAULT, XTCP_KNOB_UNTIED),
	XTCP_KNOB_TIED(XTCP_KNOB_WMEM_DEFAULT, "wmem_default", 16384, 4096,
		       1 << 30, XTCP_KNOB_UNTIED, XTCP_KNOB_WMEM_MAX),
	XTCP_KNOB_TIED(XTCP_KNOB_WMEM_MAX, "wmem_max", 4194304, 4096, 1 << 30,
		       XTCP_KNOB_WMEM_DEFAULT, XTCP_KNOB_UNTIED),
	XTCP_KNOB(XTCP_KNOB_INVALID_RATELIMIT, "invalid_ratelimit", 500, 0,
		  60000),
	XTCP_KNOB(XTCP_KNOB_SYNCOOKIES, "syncookies", 1, 0, 2),
	XTCP_KNOB(XTCP_KNOB_MAX_ORPHANS, "max_orphans", 65536, 0, INT_MAX),
	XTCP_KNOB(XTCP_KNOB_NOTSENT_LOWAT, "notsent_lowat", INT_MAX, 1,
		  INT_MAX),
	XTCP_KNOB(XTCP_KNOB_SACK, "sack", 1, 0, 1),
	XTCP_KNOB(XTCP_KNOB_GSO, "gso", 1, 0, 1),
	XTCP_KNOB(XTCP_KNOB_EARLY_DEMUX, "early_demux", 1, 0, 1),
};

/**
 * xtcp_knob() - the value of a knob in a namespace
 * @net: the namespace
 * @id: the knob
 *
 * Context: any.
 * Return: the value, in the knob's unit (Documentation/xtcp-sysctl.rst).
 */
int xtcp_knob(const struct net *net, enum xtcp_knob_id id)
{
	return READ_ONCE(xtcp_pernet(net)->knobs.val[id]);
}

/**
 * xtcp_knob_valid() - is a value within a knob's range?
 * @id: the knob
 * @val: the value
 *
 * For socket options that override a knob: they take the knob's range,
 * without the bounds one knob puts on another.
 *
 * Context: any.
 * Return: true if @val may be set.
 */
bool xtcp_knob_valid(enum xtcp_knob_id id, int val)
{
	return val >= xtcp_knob_table[id].min && val <= xtcp_knob_table[id].max;
}

/**
 * xtcp_keepidle() - idle time before the first keepalive probe
 * @sk: the socket
 *
 * Context: any.
 * Return: seconds, the socket's option or the namespace's knob.
 */
int xtcp_keepidle(const struct sock *sk)
{
	return READ_ONCE(xtcp_sk(sk)->keepidle) ?:
	       xtcp_knob(sock_net(sk), XTCP_KNOB_KEEPALIVE_TIME);
}

/**
 * xtcp_keepintvl() - time between keepalive probes
 * @sk: the socket
 *
 * Context: any.
 * Return: seconds.
 */
int xtcp_keepintvl(const struct sock *sk)
{
	return READ_ONCE(xtcp_sk(sk)->keepintvl) ?:
	       xtcp_knob(sock_net(sk), XTCP_KNOB_KEEPALIVE_INTVL);
}

/**
 * xtcp_keepcnt() - keepalive probes before giving up
 * @sk: the socket
 *
 * Context: any.
 * Return: a count.
 */
int xtcp_keepcnt(const struct sock *sk)
{
	return READ_ONCE(xtcp_sk(sk)->keepcnt) ?:
	       xtcp_knob(sock_net(sk), XTCP_KNOB_KEEPALIVE_PROBES);
}

/**
 * xtcp_msl() - the MSL that governs this socket's TIME_WAIT
 * @sk: the socket
 *
 * Context: any.
 * Return: milliseconds.
 */
int xtcp_msl(const struct sock *sk)
{
	return READ_ONCE(xtcp_sk(sk)->msl) ?:
	       xtcp_knob(sock_net(sk), XTCP_KNOB_MSL);
}

/**
 * xtcp_fin_timeout() - lifetime of this socket's orphaned FIN_WAIT_2
 * @sk: the socket
 *
 * Context: any.
 * Return: seconds.
 */
int xtcp_fin_timeout(const struct sock *sk)
{
	int linger2 = READ_ONCE(xtcp_sk(sk)->linger2);

	if (linger2 > 0)
		return linger2;
	return xtcp_knob(sock_net(sk), XTCP_KNOB_FIN_TIMEOUT);
}

/**
 * xtcp_notsent_lowat() - unsent bytes above which the socket is not
 *	writable
 * @sk: the socket
 *
 * Context: any.
 * Return: bytes, the socket's TCP_NOTSENT_LOWAT or the namespace's knob.
 */
u32 xtcp_notsent_lowat(const struct sock *sk)
{
	return READ_ONCE(xtcp_sk(sk)->notsent_lowat) ?:
	       xtcp_knob(sock_net(sk), XTCP_KNOB_NOTSENT_LOWAT);
}

/**
 * xtcp_knobs_init() - set every knob to its default
 * @knobs: the knobs of a namespace being created
 *
 * Context: process context, before the namespace's table is registered.
 */
void xtcp_knobs_init(struct xtcp_knobs *knobs)
{
	int id;

	for (id = 0; id < __XTCP_KNOB_MAX; id++)
		knobs->val[id] = xtcp_knob_table[id].def;
}

/**
 * xtcp_sysctl_net_init() - register net.xtcp for a namespace
 * @net: the namespace
 *
 * Context: process context, pernet init.
 * Return: 0 or -ENOMEM.
 */
int xtcp_sysctl_net_init(struct net *net)
{
	struct xtcp_knobs *knobs = &xtcp_pernet(net)->knobs;
	struct xtcp_net *xn = xtcp_pernet(net);
	struct ctl_table *table;
	int id;

	/* Zeroed, with the empty entry that ends it (compat.h). */
	table = kcalloc(__XTCP_KNOB_MAX + 1, sizeof(*table), GFP_KERNEL);
	if (!table)
		return -ENOMEM;

	for (id = 0; id < __XTCP_KNOB_MAX; id++) {
		const struct xtcp_knob *k = &xtcp_knob_table[id];

		table[id].procname = k->name;
		table[id].data = &knobs->val[id];
		table[id].maxlen = sizeof(int);
		table[id].mode = 0644;
		table[id].proc_handler = proc_dointvec_minmax;
		/* The bounds are only read; ctl_table wants plain pointers.
		 * A tied bound is the other knob of this namespace, whose
		 * own range keeps it within this one's.
		 */
		table[id].extra1 = k->lo == XTCP_KNOB_UNTIED ?
				   (void *)&k->min : &knobs->val[k->lo];
		table[id].extra2 = k->hi == XTCP_KNOB_UNTIED ?
				   (void *)&k->max : &knobs->val[k->hi];
	}

	xn->sysctl_hdr = register_net_sysctl_sz(net, "net/xtcp", table,
						__XTCP_KNOB_MAX);
	if (!xn->sysctl_hdr) {
		kfree(table);
		return -ENOMEM;
	}
	return 0;
}

/**
 * xtcp_sysctl_net_exit() - unregister net.xtcp of a namespace
 * @net: the namespace
 *
 * Context: process context, pernet exit or init unwind.
 */
void xtcp_sysctl_net_exit(struct net *net)
{
	struct xtcp_net *xn = xtcp_pernet(net);
	const struct ctl_table *table;

	if (!xn->sysctl_hdr)
		return;

	table = xn->sysctl_hdr->ctl_table_arg;
	unregister_net_sysctl_table(xn->sysctl_hdr);
	xn->sysctl_hdr = NULL;
	kfree(table);
}
