// SPDX-License-Identifier: GPL-2.0
/*
 * Counters: allocation per namespace and /proc/net/xtcp_stats, one
 * "Name value" line per counter, then the gauges kept elsewhere.
 */

#include <linux/percpu.h>
#include <linux/seq_file.h>
#include <net/ip.h>
#include <net/net_namespace.h>
#include <net/snmp.h>

#include "xtcp.h"

static const struct snmp_mib xtcp_mib_list[] = {
	SNMP_MIB_ITEM("ActiveOpens", XTCP_MIB_ACTIVEOPENS),
	SNMP_MIB_ITEM("PassiveOpens", XTCP_MIB_PASSIVEOPENS),
	SNMP_MIB_ITEM("AttemptFails", XTCP_MIB_ATTEMPTFAILS),
	SNMP_MIB_ITEM("EstabResets", XTCP_MIB_ESTABRESETS),
	SNMP_MIB_ITEM("CurrEstab", XTCP_MIB_CURRESTAB),
	SNMP_MIB_ITEM("InSegs", XTCP_MIB_INSEGS),
	SNMP_MIB_ITEM("OutSegs", XTCP_MIB_OUTSEGS),
	SNMP_MIB_ITEM("RetransSegs", XTCP_MIB_RETRANSSEGS),
	SNMP_MIB_ITEM("InErrs", XTCP_MIB_INERRS),
	SNMP_MIB_ITEM("InCsumErrors", XTCP_MIB_INCSUMERRORS),
	SNMP_MIB_ITEM("OutRsts", XTCP_MIB_OUTRSTS),
	SNMP_MIB_ITEM("TWOverflow", XTCP_MIB_TWOVERFLOW),
	SNMP_MIB_ITEM("TWReused", XTCP_MIB_TWREUSED),
	SNMP_MIB_ITEM("TWKilledByRST", XTCP_MIB_TWKILLEDBYRST),
	SNMP_MIB_ITEM("TWRecycledBySYN", XTCP_MIB_TWRECYCLEDBYSYN),
	SNMP_MIB_ITEM("KeepaliveProbes", XTCP_MIB_KEEPALIVEPROBES),
	SNMP_MIB_ITEM("KeepaliveTimeouts", XTCP_MIB_KEEPALIVETIMEOUTS),
	SNMP_MIB_ITEM("LingerAborts", XTCP_MIB_LINGERABORTS),
	SNMP_MIB_ITEM("ListenDrops", XTCP_MIB_LISTENDROPS),
	SNMP_MIB_ITEM("OFOQueue", XTCP_MIB_OFOQUEUE),
	SNMP_MIB_ITEM("OFODrop", XTCP_MIB_OFODROP),
	SNMP_MIB_ITEM("OFOPruned", XTCP_MIB_OFOPRUNED),
	SNMP_MIB_ITEM("RcvQDrop", XTCP_MIB_RCVQDROP),
	SNMP_MIB_ITEM("ACKSkippedSynRecv", XTCP_MIB_ACKSKIPPEDSYNRECV),
	SNMP_MIB_ITEM("ACKSkippedSeq", XTCP_MIB_ACKSKIPPEDSEQ),
	SNMP_MIB_ITEM("ACKSkippedChallenge", XTCP_MIB_ACKSKIPPEDCHALLENGE),
	SNMP_MIB_ITEM("ACKSkippedTimeWait", XTCP_MIB_ACKSKIPPEDTIMEWAIT),
	SNMP_MIB_ITEM("SyncookiesSent", XTCP_MIB_SYNCOOKIESSENT),
	SNMP_MIB_ITEM("SyncookiesRecv", XTCP_MIB_SYNCOOKIESRECV),
	SNMP_MIB_ITEM("SyncookiesFailed", XTCP_MIB_SYNCOOKIESFAILED),
	SNMP_MIB_ITEM("AbortOnMemory", XTCP_MIB_ABORTONMEMORY),
	SNMP_MIB_ITEM("OutOfWindowIcmps", XTCP_MIB_OUTOFWINDOWICMPS),
	SNMP_MIB_ITEM("SackRecovery", XTCP_MIB_SACKRECOVERY),
	SNMP_MIB_ITEM("SackRetrans", XTCP_MIB_SACKRETRANS),
	SNMP_MIB_ITEM("SackDiscard", XTCP_MIB_SACKDISCARD),
	SNMP_MIB_ITEM("DSackRecv", XTCP_MIB_DSACKRECV),
	SNMP_MIB_ITEM("OutGsoSkbs", XTCP_MIB_OUTGSOSKBS),
	SNMP_MIB_ITEM("BacklogDrop", XTCP_MIB_BACKLOGDROP),
	SNMP_MIB_ITEM("TimeoutRehash", XTCP_MIB_TIMEOUTREHASH),
	SNMP_MIB_ITEM("MinTTLDrop", XTCP_MIB_MINTTLDROP),
	SNMP_MIB_ITEM("InGsoSkbs", XTCP_MIB_INGSOSKBS),
	SNMP_MIB_ITEM("InTruesizeCopies", XTCP_MIB_INTRUESIZECOPIES),
	SNMP_MIB_ITEM("InEarlyDemux", XTCP_MIB_INEARLYDEMUX),
};

/**
 * xtcp_mib_seq_show() - print the counters of the file's namespace
 * @seq: the seq_file of /proc/net/xtcp_stats
 * @v: unused
 *
 * Context: process context.
 * Return: 0.
 */
int xtcp_mib_seq_show(struct seq_file *seq, void *v)
{
	struct net *net = seq_file_single_net(seq);
	struct xtcp_mib __percpu *mib = xtcp_mib_of(net);
	size_t i;

	BUILD_BUG_ON(ARRAY_SIZE(xtcp_mib_list) != __XTCP_MIB_MAX);

	for (i = 0; i < ARRAY_SIZE(xtcp_mib_list); i++)
		seq_printf(seq, "Xtcp%s %lu\n", xtcp_mib_list[i].name,
			   snmp_fold_field(mib, xtcp_mib_list[i].entry));
	/* Gauges: counted where the objects live. */
	seq_printf(seq, "XtcpTimeWait %u\n", xtcp_tw_count(net));
	seq_printf(seq, "XtcpOrphans %lld\n",
		   percpu_counter_sum_positive(&xtcp_pernet(net)->orphans));
	return 0;
}

/**
 * xtcp_mib_net_init() - allocate the counters of a namespace
 * @net: the namespace
 *
 * Context: process context, pernet init.
 * Return: 0 or -ENOMEM.
 */
int xtcp_mib_net_init(struct net *net)
{
	struct xtcp_net *xn = xtcp_pernet(net);

	xn->mib = alloc_percpu(struct xtcp_mib);
	return xn->mib ? 0 : -ENOMEM;
}

/**
 * xtcp_mib_net_exit() - free the counters of a namespace
 * @net: the namespace
 *
 * Context: process context, pernet exit or init unwind.
 */
void xtcp_mib_net_exit(struct net *net)
{
	free_percpu(xtcp_pernet(net)->mib);
}
