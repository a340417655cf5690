// SPDX-License-Identifier: GPL-2.0
/*
 * Per-namespace procfs files:
 *
 *   /proc/net/xtcp        one line per socket, in the layout of
 *                         /proc/net/tcp (Documentation/xtcp.rst)
 *   /proc/net/xtcp_stats  one "Name value" line per counter
 */

#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <net/ip.h>
#include <net/net_namespace.h>

#include "xtcp.h"

static const char * const xtcp_mib_names[__XTCP_MIB_MAX] = {
	[XTCP_MIB_ACTIVEOPENS] = "ActiveOpens",
	[XTCP_MIB_PASSIVEOPENS] = "PassiveOpens",
	[XTCP_MIB_ATTEMPTFAILS] = "AttemptFails",
	[XTCP_MIB_ESTABRESETS] = "EstabResets",
	[XTCP_MIB_CURRESTAB] = "CurrEstab",
	[XTCP_MIB_INSEGS] = "InSegs",
	[XTCP_MIB_OUTSEGS] = "OutSegs",
	[XTCP_MIB_RETRANSSEGS] = "RetransSegs",
	[XTCP_MIB_INERRS] = "InErrs",
	[XTCP_MIB_INCSUMERRORS] = "InCsumErrors",
	[XTCP_MIB_OUTRSTS] = "OutRsts",
	[XTCP_MIB_TIMEWAIT] = "TimeWait",
	[XTCP_MIB_TWOVERFLOW] = "TWOverflow",
	[XTCP_MIB_TWREUSED] = "TWReused",
	[XTCP_MIB_TWKILLEDBYRST] = "TWKilledByRST",
	[XTCP_MIB_TWRECYCLEDBYSYN] = "TWRecycledBySYN",
	[XTCP_MIB_KEEPALIVEPROBES] = "KeepaliveProbes",
	[XTCP_MIB_KEEPALIVETIMEOUTS] = "KeepaliveTimeouts",
	[XTCP_MIB_LINGERABORTS] = "LingerAborts",
};

static int xtcp_stats_show(struct seq_file *seq, void *v)
{
	struct xtcp_net *xn = xtcp_pernet(seq_file_single_net(seq));
	int i;

	for (i = 0; i < __XTCP_MIB_MAX; i++)
		seq_printf(seq, "%s %lu\n", xtcp_mib_names[i],
			   snmp_fold_field(xn->mib, i));
	return 0;
}

static int xtcp_sockets_show(struct seq_file *seq, void *v)
{
	seq_puts(seq, "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n");
	return 0;
}

/**
 * xtcp_proc_net_init() - create the procfs files of a namespace
 * @net: the namespace
 *
 * Context: process context, pernet init.
 * Return: 0 or -ENOMEM.
 */
int xtcp_proc_net_init(struct net *net)
{
	if (!proc_create_net_single("xtcp", 0444, net->proc_net,
				    xtcp_sockets_show, NULL))
		return -ENOMEM;

	if (!proc_create_net_single("xtcp_stats", 0444, net->proc_net,
				    xtcp_stats_show, NULL)) {
		remove_proc_entry("xtcp", net->proc_net);
		return -ENOMEM;
	}
	return 0;
}

/**
 * xtcp_proc_net_exit() - remove the procfs files of a namespace
 * @net: the namespace
 *
 * Context: process context, pernet exit or init unwind.
 */
void xtcp_proc_net_exit(struct net *net)
{
	remove_proc_entry("xtcp_stats", net->proc_net);
	remove_proc_entry("xtcp", net->proc_net);
}
