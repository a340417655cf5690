// SPDX-License-Identifier: GPL-2.0
/*
 * Per-namespace procfs files:
 *
 *   /proc/net/xtcp        one line per AF_INET socket or entry, in the
 *                         layout of /proc/net/tcp (Documentation/xtcp.rst)
 *   /proc/net/xtcp6       one line per AF_INET6 socket or entry (IPv4
 *                         peers as IPv4-mapped), in that of /proc/net/tcp6
 *   /proc/net/xtcp_stats  one "Name value" line per counter
 */

#include <linux/ipv6.h>
#include <linux/proc_fs.h>
#include <linux/rhashtable.h>
#include <linux/seq_file.h>
#include <net/ip.h>
#include <net/net_namespace.h>

#include "xtcp.h"

/* Time left before @expires in clock ticks (USER_HZ), as /proc/net/tcp. */
static clock_t xtcp_ticks_left(unsigned long expires)
{
	return jiffies_delta_to_clock_t((long)(expires - jiffies));
}

/*
 * The walk over listeners, connections, half-open entries and TIME_WAIT
 * entries, resumed at
 * each read() where the last one stopped, as /proc/net/tcp does: nothing
 * is held between reads but the position, and no lock but RCU is taken
 * (the tables are RCU-safe, sockets and entries freed after a grace
 * period). Listeners are found by bucket and offset. In the two
 * rhashtables the position is the walker's slot and skip count, kept
 * while the walker is out of the table between reads: re-entered and
 * started there, rhashtable_walk_peek() gives the line not yet shown.
 * Lines may repeat or be missed when the tables change meanwhile, as with
 * /proc/net/tcp.
 */
enum xtcp_seq_phase {
	XTCP_SEQ_LISTEN,
	XTCP_SEQ_CONN,
	XTCP_SEQ_REQ,
	XTCP_SEQ_TW,
	XTCP_SEQ_DONE,
};

/**
 * struct xtcp_seq_state - where a reader of /proc/net/xtcp is
 * @p: the namespace; must be first (seq_file_net())
 * @phase: the table being walked
 * @bucket: listener bucket
 * @offset: listeners of @bucket already passed
 * @iter: walker of the connection or TIME_WAIT table, entered and
 *	started only from ->start() to ->stop()
 * @walking: @phase walks @iter
 * @pos: seq_file position of the current element (0: the header)
 */
struct xtcp_seq_state {
	struct seq_net_private p;
	enum xtcp_seq_phase phase;
	int bucket;
	int offset;
	struct rhashtable_iter iter;
	bool walking;
	loff_t pos;
};

/*
 * A started walker holds an RCU read section of its own, nested in the
 * one ->start() takes; to sparse the helpers below are neutral, since
 * ->start() and ->stop() pair them up depending on the phase.
 */
static void xtcp_seq_walk_begin(struct xtcp_seq_state *st,
				struct rhashtable *ht)
{
	rhashtable_walk_enter(ht, &st->iter);
	rhashtable_walk_start(&st->iter);
	__release(RCU);
	st->walking = true;
}

static void xtcp_seq_walk_end(struct xtcp_seq_state *st)
{
	__acquire(RCU);
	rhashtable_walk_stop(&st->iter);
	rhashtable_walk_exit(&st->iter);
	st->walking = false;
}

/* Back into the table where the last read left the walker. */
static void xtcp_seq_walk_resume(struct xtcp_seq_state *st)
{
	unsigned int slot = st->iter.slot, skip = st->iter.skip;
	bool eot = st->iter.end_of_table;

	rhashtable_walk_enter(st->iter.ht, &st->iter);
	st->iter.slot = slot;
	st->iter.skip = skip;
	st->iter.end_of_table = eot;
	rhashtable_walk_start(&st->iter);
	__release(RCU);
}

static struct sock *xtcp_seq_listener(struct xtcp_seq_state *st,
				      struct xtcp_net *xn)
{
	struct sock *sk;
	int i;

	for (; st->bucket < XTCP_BHASH_SIZE; st->bucket++, st->offset = 0) {
		i = 0;
		sk_for_each_rcu(sk, &xn->lhash[st->bucket])
			if (i++ == st->offset)
				return sk;
	}
	return NULL;
}

/* The walker's current element; for entries, the next one alive. */
static void *xtcp_seq_peek(struct xtcp_seq_state *st)
{
	void *v;

	for (;;) {
		v = rhashtable_walk_peek(&st->iter);
		if (IS_ERR(v)) {
			if (PTR_ERR(v) == -EAGAIN)
				continue;	/* resized: rewound */
			return NULL;
		}
		if (!v || (st->phase == XTCP_SEQ_TW &&
			   !READ_ONCE(((struct xtcp_tw *)v)->dead)) ||
		    (st->phase == XTCP_SEQ_REQ &&
		     !READ_ONCE(((struct xtcp_req *)v)->dead)) ||
		    st->phase == XTCP_SEQ_CONN)
			return v;
		rhashtable_walk_next(&st->iter);
	}
}

/* The current element, moving on to the next table when one is done. */
static void *xtcp_seq_current(struct xtcp_seq_state *st, struct xtcp_net *xn)
{
	void *v;

	switch (st->phase) {
	case XTCP_SEQ_LISTEN:
		v = xtcp_seq_listener(st, xn);
		if (v)
			return v;
		xtcp_seq_walk_begin(st, &xn->ehash);
		st->phase = XTCP_SEQ_CONN;
		fallthrough;
	case XTCP_SEQ_CONN:
		v = xtcp_seq_peek(st);
		if (v)
			return v;
		xtcp_seq_walk_end(st);
		xtcp_seq_walk_begin(st, &xn->reqhash);
		st->phase = XTCP_SEQ_REQ;
		fallthrough;
	case XTCP_SEQ_REQ:
		v = xtcp_seq_peek(st);
		if (v)
			return v;
		xtcp_seq_walk_end(st);
		xtcp_seq_walk_begin(st, &xn->tw.hash);
		st->phase = XTCP_SEQ_TW;
		fallthrough;
	case XTCP_SEQ_TW:
		v = xtcp_seq_peek(st);
		if (v)
			return v;
		xtcp_seq_walk_end(st);
		st->phase = XTCP_SEQ_DONE;
		fallthrough;
	default:
		return NULL;
	}
}

static void *xtcp_seq_next_elem(struct xtcp_seq_state *st,
				struct xtcp_net *xn)
{
	if (st->phase == XTCP_SEQ_LISTEN)
		st->offset++;
	else if (st->phase != XTCP_SEQ_DONE)
		rhashtable_walk_next(&st->iter);
	st->pos++;
	return xtcp_seq_current(st, xn);
}

static void xtcp_seq_reset(struct xtcp_seq_state *st)
{
	st->walking = false;
	st->phase = XTCP_SEQ_LISTEN;
	st->bucket = 0;
	st->offset = 0;
	st->pos = 0;
}

static void *xtcp_seq_start(struct seq_file *seq, loff_t *pos)
	__acquires(RCU)
{
	struct xtcp_net *xn = xtcp_pernet(seq_file_net(seq));
	struct xtcp_seq_state *st = seq->private;
	void *v;

	if (!*pos || *pos != st->pos)
		xtcp_seq_reset(st);
	rcu_read_lock();
	if (st->walking)
		xtcp_seq_walk_resume(st);
	if (!*pos)
		return SEQ_START_TOKEN;

	/* Resuming where the last read stopped, or seeking from the top,
	 * where the first element is at 1.
	 */
	if (!st->pos)
		st->pos = 1;
	v = xtcp_seq_current(st, xn);
	while (v && st->pos < *pos)
		v = xtcp_seq_next_elem(st, xn);
	return v;
}

static void *xtcp_seq_next(struct seq_file *seq, void *v, loff_t *pos)
{
	struct xtcp_net *xn = xtcp_pernet(seq_file_net(seq));
	struct xtcp_seq_state *st = seq->private;

	if (v == SEQ_START_TOKEN) {
		st->pos++;
		v = xtcp_seq_current(st, xn);
	} else {
		v = xtcp_seq_next_elem(st, xn);
	}
	*pos = st->pos;
	return v;
}

static void xtcp_seq_stop(struct seq_file *seq, void *v)
	__releases(RCU)
{
	struct xtcp_seq_state *st = seq->private;

	/* Out of the table between reads; the position stays in @iter. */
	if (st->walking) {
		__acquire(RCU);
		rhashtable_walk_stop(&st->iter);
		rhashtable_walk_exit(&st->iter);
	}
	rcu_read_unlock();
}

static void xtcp_seq_show_sock(struct seq_file *seq, struct sock *sk)
{
	struct xtcp_seq_state *st = seq->private;
	const struct xtcp_sock *xs = xtcp_sk(sk);
	const struct inet_sock *inet = inet_sk(sk);
	int state = inet_sk_state_load(sk);
	unsigned long expires;
	clock_t when = 0;
	u32 rxq, txq;
	int tr;

	tr = xtcp_shown_timer(sk, &expires);
	if (tr != XTCP_TR_NONE)
		when = xtcp_ticks_left(expires);

	xtcp_shown_queues(sk, &rxq, &txq);

	seq_printf(seq, "%4d: %08X:%04X %08X:%04X %02X %08X:%08X %02X:%08lX %08X %5u %8d %lu %u\n",
		   (int)st->pos - 1, inet->inet_rcv_saddr, inet->inet_num,
		   inet->inet_daddr, ntohs(inet->inet_dport), state, txq, rxq,
		   tr, when, xs->retransmits,
		   from_kuid_munged(seq_user_ns(seq), sock_i_uid(sk)),
		   xs->probes_out, sock_i_ino(sk),
		   jiffies_to_msecs(jiffies - READ_ONCE(xs->state_since)));
}

static void xtcp_seq_show_tw(struct seq_file *seq, const struct xtcp_tw *tw)
{
	struct xtcp_seq_state *st = seq->private;

	seq_printf(seq, "%4d: %08X:%04X %08X:%04X %02X %08X:%08X %02X:%08lX %08X %5u %8d %lu %u\n",
		   (int)st->pos - 1, xtcp_addr_v4(&tw->tuple.laddr),
		   ntohs(tw->tuple.lport), xtcp_addr_v4(&tw->tuple.raddr),
		   ntohs(tw->tuple.rport), TCP_TIME_WAIT,
		   0, 0, XTCP_TR_TIMEWAIT,
		   xtcp_ticks_left(READ_ONCE(tw->expires)), 0, 0, 0, 0UL,
		   jiffies_to_msecs(jiffies - tw->created));
}

/*
 * A half-open entry, as Linux shows a request sock: SYN_RCVD, the SYN-ACK
 * timer, the listener's uid, no inode. Under RCU the listener is still
 * there: the entry's last reference goes before the listener's.
 */
static void xtcp_seq_show_req(struct seq_file *seq, const struct xtcp_req *req)
{
	struct xtcp_seq_state *st = seq->private;

	seq_printf(seq, "%4d: %08X:%04X %08X:%04X %02X %08X:%08X %02X:%08lX %08X %5u %8d %lu %u\n",
		   (int)st->pos - 1, xtcp_addr_v4(&req->tuple.laddr),
		   ntohs(req->tuple.lport), xtcp_addr_v4(&req->tuple.raddr),
		   ntohs(req->tuple.rport), TCP_SYN_RECV,
		   0, 0, XTCP_TR_RETRANS,
		   xtcp_ticks_left(READ_ONCE(req->timer.expires)),
		   READ_ONCE(req->retransmits),
		   from_kuid_munged(seq_user_ns(seq),
				    sock_i_uid(req->listener)),
		   0, 0UL, jiffies_to_msecs((u32)jiffies - req->created));
}

static int xtcp_seq_show(struct seq_file *seq, void *v)
{
	struct xtcp_seq_state *st = seq->private;

	if (v == SEQ_START_TOKEN) {
		seq_puts(seq, "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode age_ms\n");
		return 0;
	}
	/*
	 * AF_INET lines only: those of AF_INET6 sockets, and of the entries
	 * they leave, are in /proc/net/xtcp6, IPv4-mapped peers included
	 * (as TCP's in /proc/net/tcp6).
	 */
	if (st->phase == XTCP_SEQ_TW) {
		if (((struct xtcp_tw *)v)->v6)
			return SEQ_SKIP;
		xtcp_seq_show_tw(seq, v);
	} else if (st->phase == XTCP_SEQ_REQ) {
		if (xtcp_sk_is_v6(((struct xtcp_req *)v)->listener))
			return SEQ_SKIP;
		xtcp_seq_show_req(seq, v);
	} else {
		if (xtcp_sk_is_v6(v))
			return SEQ_SKIP;
		xtcp_seq_show_sock(seq, v);
	}
	return 0;
}

static const struct seq_operations xtcp_seq_ops = {
	.start = xtcp_seq_start,
	.next = xtcp_seq_next,
	.stop = xtcp_seq_stop,
	.show = xtcp_seq_show,
};

/*
 * /proc/net/xtcp6: the same walk, the lines /proc/net/xtcp leaves out
 * (AF_INET6 sockets, entries of IPv6 4-tuples), printed as
 * /proc/net/tcp6 prints them: each address as its four 32-bit words,
 * each read by the host, then the port. The columns after the addresses
 * are those of /proc/net/xtcp.
 */
struct xtcp6_seq_line {
	const struct in6_addr *src;
	const struct in6_addr *dst;
	u16 srcp;
	u16 dstp;
	int state;
	u32 txq;
	u32 rxq;
	int tr;
	clock_t when;
	u32 retrans;
	uid_t uid;
	int timeout;
	unsigned long ino;
	u32 age_ms;
};

static void xtcp6_seq_print(struct seq_file *seq,
			    const struct xtcp6_seq_line *l)
{
	struct xtcp_seq_state *st = seq->private;

	seq_printf(seq, "%4d: %08X%08X%08X%08X:%04X %08X%08X%08X%08X:%04X %02X %08X:%08X %02X:%08lX %08X %5u %8d %lu %u\n",
		   (int)st->pos - 1,
		   l->src->s6_addr32[0], l->src->s6_addr32[1],
		   l->src->s6_addr32[2], l->src->s6_addr32[3], l->srcp,
		   l->dst->s6_addr32[0], l->dst->s6_addr32[1],
		   l->dst->s6_addr32[2], l->dst->s6_addr32[3], l->dstp,
		   l->state, l->txq, l->rxq, l->tr, l->when, l->retrans,
		   l->uid, l->timeout, l->ino, l->age_ms);
}

static void xtcp6_seq_show_sock(struct seq_file *seq, struct sock *sk)
{
	const struct xtcp_sock *xs = xtcp_sk(sk);
	struct xtcp6_seq_line l = {
		.src = &sk->sk_v6_rcv_saddr,
		.dst = &sk->sk_v6_daddr,
		.srcp = inet_sk(sk)->inet_num,
		.dstp = ntohs(inet_sk(sk)->inet_dport),
		.state = inet_sk_state_load(sk),
		.retrans = xs->retransmits,
		.uid = from_kuid_munged(seq_user_ns(seq), sock_i_uid(sk)),
		.timeout = xs->probes_out,
		.ino = sock_i_ino(sk),
		.age_ms = jiffies_to_msecs(jiffies -
					   READ_ONCE(xs->state_since)),
	};
	unsigned long expires;

	l.tr = xtcp_shown_timer(sk, &expires);
	if (l.tr != XTCP_TR_NONE)
		l.when = xtcp_ticks_left(expires);
	xtcp_shown_queues(sk, &l.rxq, &l.txq);
	xtcp6_seq_print(seq, &l);
}

static void xtcp6_seq_show_tw(struct seq_file *seq, const struct xtcp_tw *tw)
{
	struct xtcp6_seq_line l = {
		.src = &tw->tuple.laddr,
		.dst = &tw->tuple.raddr,
		.srcp = ntohs(tw->tuple.lport),
		.dstp = ntohs(tw->tuple.rport),
		.state = TCP_TIME_WAIT,
		.tr = XTCP_TR_TIMEWAIT,
		.when = xtcp_ticks_left(READ_ONCE(tw->expires)),
		.age_ms = jiffies_to_msecs(jiffies - tw->created),
	};

	xtcp6_seq_print(seq, &l);
}

/* As xtcp_seq_show_req(): the listener is there under RCU. */
static void xtcp6_seq_show_req(struct seq_file *seq,
			       const struct xtcp_req *req)
{
	struct xtcp6_seq_line l = {
		.src = &req->tuple.laddr,
		.dst = &req->tuple.raddr,
		.srcp = ntohs(req->tuple.lport),
		.dstp = ntohs(req->tuple.rport),
		.state = TCP_SYN_RECV,
		.tr = XTCP_TR_RETRANS,
		.when = xtcp_ticks_left(READ_ONCE(req->timer.expires)),
		.retrans = READ_ONCE(req->retransmits),
		.uid = from_kuid_munged(seq_user_ns(seq),
					sock_i_uid(req->listener)),
		.age_ms = jiffies_to_msecs((u32)jiffies - req->created),
	};

	xtcp6_seq_print(seq, &l);
}

/* Exactly the lines xtcp_seq_show() skips. */
static int xtcp6_seq_show(struct seq_file *seq, void *v)
{
	struct xtcp_seq_state *st = seq->private;

	if (v == SEQ_START_TOKEN) {
		seq_puts(seq, "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode age_ms\n");
		return 0;
	}
	if (st->phase == XTCP_SEQ_TW) {
		if (!((struct xtcp_tw *)v)->v6)
			return SEQ_SKIP;
		xtcp6_seq_show_tw(seq, v);
	} else if (st->phase == XTCP_SEQ_REQ) {
		if (!xtcp_sk_is_v6(((struct xtcp_req *)v)->listener))
			return SEQ_SKIP;
		xtcp6_seq_show_req(seq, v);
	} else {
		if (!xtcp_sk_is_v6(v))
			return SEQ_SKIP;
		xtcp6_seq_show_sock(seq, v);
	}
	return 0;
}

static const struct seq_operations xtcp6_seq_ops = {
	.start = xtcp_seq_start,
	.next = xtcp_seq_next,
	.stop = xtcp_seq_stop,
	.show = xtcp6_seq_show,
};

/**
 * xtcp_proc_net_init() - create the procfs files of a namespace
 * @net: the namespace
 *
 * Context: process context, pernet init.
 * Return: 0 or -ENOMEM.
 */
int xtcp_proc_net_init(struct net *net)
{
	if (!proc_create_net("xtcp", 0444, net->proc_net, &xtcp_seq_ops,
			     sizeof(struct xtcp_seq_state)))
		return -ENOMEM;

	if (!proc_create_net_single("xtcp_stats", 0444, net->proc_net,
				    xtcp_mib_seq_show, NULL))
		goto err_xtcp;
	/* No IPv6 sockets without IPv6 (ipv6.disable=1): no file, as
	 * there is no /proc/net/tcp6 then.
	 */
	if (ipv6_mod_enabled() &&
	    !proc_create_net("xtcp6", 0444, net->proc_net, &xtcp6_seq_ops,
			     sizeof(struct xtcp_seq_state)))
		goto err_stats;
	return 0;

err_stats:
	remove_proc_entry("xtcp_stats", net->proc_net);
err_xtcp:
	remove_proc_entry("xtcp", net->proc_net);
	return -ENOMEM;
}

/**
 * xtcp_proc_net_exit() - remove the procfs files of a namespace
 * @net: the namespace
 *
 * Context: process context, pernet exit or init unwind.
 */
void xtcp_proc_net_exit(struct net *net)
{
	if (ipv6_mod_enabled())
		remove_proc_entry("xtcp6", net->proc_net);
	remove_proc_entry("xtcp_stats", net->proc_net);
	remove_proc_entry("xtcp", net->proc_net);
}
