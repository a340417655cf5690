// SPDX-License-Identifier: GPL-2.0
/*
 * Per-namespace knobs under net.xtcp.
 *
 * One table below names every knob with its default and range; the
 * defaults, the bounds checked on write and the documentation in
 * Documentation/xtcp-sysctl.rst all follow it. Each namespace gets its own
 * copy of the ctl_table pointing into its own struct xtcp_knobs, so a write
 * in one namespace changes nothing in another. Writes need CAP_NET_ADMIN
 * over the namespace (mode 0644 as judged by net_ctl_permissions()); an
 * out-of-range write fails with EINVAL and leaves the value unchanged
 * (proc_dointvec_minmax()).
 */

#include <linux/slab.h>
#include <linux/sysctl.h>
#include <net/net_namespace.h>

#include "xtcp.h"

struct xtcp_knob {
	const char *name;
	size_t offset;
	int def;
	int min;
	int max;
};

#define XTCP_KNOB(_field, _def, _min, _max) {				\
	.name = #_field,						\
	.offset = offsetof(struct xtcp_knobs, sysctl_##_field),			\
	.def = _def,							\
	.min = _min,							\
	.max = _max,							\
}

static const struct xtcp_knob xtcp_knob_table[] = {
	XTCP_KNOB(msl, 30000, 1, 600000),
	XTCP_KNOB(max_tw_buckets, 18000, 0, INT_MAX),
	XTCP_KNOB(tw_overflow, XTCP_TW_OVERFLOW_CLOSE_NEW,
		  XTCP_TW_OVERFLOW_CLOSE_NEW, XTCP_TW_OVERFLOW_EVICT_OLDEST),
	XTCP_KNOB(tw_reuse, XTCP_TW_REUSE_LOOPBACK,
		  XTCP_TW_REUSE_OFF, XTCP_TW_REUSE_LOOPBACK),
	XTCP_KNOB(tw_reuse_delay, 1000, 1, 60000),
	XTCP_KNOB(rfc1337, 0, 0, 1),
	XTCP_KNOB(fin_timeout, 60, 1, 3600),
	XTCP_KNOB(keepalive_time, 7200, 1, 32767),
	XTCP_KNOB(keepalive_intvl, 75, 1, 32767),
	XTCP_KNOB(keepalive_probes, 9, 1, 127),
	XTCP_KNOB(timestamps, 1, 0, 1),
	XTCP_KNOB(syn_retries, 6, 1, 127),
	XTCP_KNOB(synack_retries, 5, 1, 127),
	XTCP_KNOB(retries2, 15, 1, 127),
	XTCP_KNOB(rto_min, 200, 1, 120000),
	XTCP_KNOB(max_syn_backlog, 1024, 1, 65535),
	XTCP_KNOB(rmem_default, 131072, 4096, 1 << 30),
	XTCP_KNOB(rmem_max, 6291456, 4096, 1 << 30),
	XTCP_KNOB(wmem_default, 16384, 4096, 1 << 30),
	XTCP_KNOB(wmem_max, 4194304, 4096, 1 << 30),
};

#define XTCP_NR_KNOBS ARRAY_SIZE(xtcp_knob_table)

static int *xtcp_knob_ptr(struct xtcp_knobs *knobs, const struct xtcp_knob *k)
{
	return (int *)((char *)knobs + k->offset);
}

/**
 * xtcp_knobs_init() - set every knob to its default
 * @knobs: the knobs of a namespace being created
 *
 * Context: process context, before the namespace's table is registered.
 */
void xtcp_knobs_init(struct xtcp_knobs *knobs)
{
	size_t i;

	BUILD_BUG_ON(sizeof(struct xtcp_knobs) != XTCP_NR_KNOBS * sizeof(int));

	for (i = 0; i < XTCP_NR_KNOBS; i++)
		*xtcp_knob_ptr(knobs, &xtcp_knob_table[i]) =
			xtcp_knob_table[i].def;
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
	struct xtcp_net *xn = xtcp_pernet(net);
	struct ctl_table *table;
	size_t i;

	table = kcalloc(XTCP_NR_KNOBS, sizeof(*table), GFP_KERNEL);
	if (!table)
		return -ENOMEM;

	for (i = 0; i < XTCP_NR_KNOBS; i++) {
		const struct xtcp_knob *k = &xtcp_knob_table[i];

		table[i].procname = k->name;
		table[i].data = xtcp_knob_ptr(&xn->knobs, k);
		table[i].maxlen = sizeof(int);
		table[i].mode = 0644;
		table[i].proc_handler = proc_dointvec_minmax;
		/* The bounds are only read; ctl_table wants plain pointers. */
		table[i].extra1 = (void *)&k->min;
		table[i].extra2 = (void *)&k->max;
	}

	xn->sysctl_hdr = register_net_sysctl_sz(net, "net/xtcp", table,
						XTCP_NR_KNOBS);
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
