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

/* Timer kinds in the "tr" column, numbered as in /proc/net/tcp. */
enum {
	XTCP_TR_NONE,
	XTCP_TR_RETRANS,
	XTCP_TR_KEEPALIVE,
	XTCP_TR_TIMEWAIT,
	XTCP_TR_PROBE,
};

struct xtcp_proc_iter {
	struct seq_file *seq;
	int sl;
};

static long xtcp_ms_left(unsigned long expires)
{
	long left = (long)(expires - jiffies);

	return left > 0 ? jiffies_to_msecs(left) : 0;
}

static void xtcp_show_sock(struct sock *sk, void *arg)
{
	struct xtcp_proc_iter *it = arg;
	const struct xtcp_sock *xs = xtcp_sk(sk);
	const struct inet_sock *inet = inet_sk(sk);
	int state = inet_sk_state_load(sk);
	int tr = XTCP_TR_NONE, rxq, txq;
	long when = 0;

	if (timer_pending(&xs->retransmit_timer)) {
		tr = xs->packets_out ? XTCP_TR_RETRANS : XTCP_TR_PROBE;
		when = xtcp_ms_left(xs->retransmit_timer.expires);
	} else if (timer_pending(&sk->sk_timer)) {
		tr = XTCP_TR_KEEPALIVE;
		when = xtcp_ms_left(sk->sk_timer.expires);
	}

	if (state == TCP_LISTEN) {
		rxq = READ_ONCE(xs->accept_ready);
		txq = READ_ONCE(sk->sk_max_ack_backlog);
	} else {
		rxq = max_t(int, READ_ONCE(xs->rcv_nxt) -
				 READ_ONCE(xs->copied_seq), 0);
		txq = READ_ONCE(xs->write_seq) - READ_ONCE(xs->snd_una);
	}

	seq_printf(it->seq, "%4d: %08X:%04X %08X:%04X %02X %08X:%08X %02X:%08lX %08X %5u %8d %lu %u\n",
		   it->sl++, inet->inet_rcv_saddr, inet->inet_num,
		   inet->inet_daddr, ntohs(inet->inet_dport), state, txq, rxq,
		   tr, when, xs->retransmits,
		   from_kuid_munged(seq_user_ns(it->seq), sock_i_uid(sk)),
		   xs->probes_out, sock_i_ino(sk),
		   jiffies_to_msecs(jiffies - READ_ONCE(xs->state_since)));
}

static void xtcp_show_tw(struct seq_file *seq, int sl,
			 const struct xtcp_tw *tw, long ms_left)
{
	seq_printf(seq, "%4d: %08X:%04X %08X:%04X %02X %08X:%08X %02X:%08lX %08X %5u %8d %lu %u\n",
		   sl, tw->tuple.laddr, ntohs(tw->tuple.lport),
		   tw->tuple.raddr, ntohs(tw->tuple.rport), TCP_TIME_WAIT,
		   0, 0, XTCP_TR_TIMEWAIT, ms_left, 0, 0, 0, 0UL,
		   jiffies_to_msecs(jiffies - tw->created));
}

static int xtcp_sockets_show(struct seq_file *seq, void *v)
{
	struct net *net = seq_file_single_net(seq);
	struct xtcp_proc_iter it = { .seq = seq };

	seq_puts(seq, "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode age_ms\n");
	xtcp_lhash_walk(net, xtcp_show_sock, &it);
	xtcp_ehash_walk(net, xtcp_show_sock, &it);
	xtcp_tw_show(seq, net, it.sl, xtcp_show_tw);
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
				    xtcp_mib_seq_show, NULL)) {
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
