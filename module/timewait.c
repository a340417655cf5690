// SPDX-License-Identifier: GPL-2.0
/*
 * TIME_WAIT buckets (Documentation/xtcp.rst, "TIME_WAIT").
 *
 * When a connection enters TIME_WAIT its socket is freed and a small
 * struct xtcp_tw takes its place: the 4-tuple, the sequence and timestamp
 * state needed to answer the peer, and the expiry time. Buckets live in a
 * per-namespace rhashtable (RCU lookups from the receive path and from
 * connect(), and the /proc walk), in a port index (so bind() sees the port
 * in use) and on the expiry list of their duration class.
 *
 * A class holds the entries of one duration (2 x MSL, per namespace or per
 * socket): with one duration, the order of entry is the order of expiry,
 * so insertion and a 2MSL restart append to the tail, in O(1) whatever
 * durations are in use. Each class has one timer, set for its first
 * entry; an empty class is freed by its own timer. Classes are found by
 * duration in an xarray.
 *
 * Locking: xn->bind_lock (BHs off) protects the classes and their lists,
 * the port index, insertion into and removal from the hash, and the count.
 * Readers under RCU take bind_lock and re-check @dead before acting on a
 * bucket; buckets are freed after a grace period.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/export.h>
#include <linux/rhashtable.h>
#include <linux/slab.h>
#include <net/ip.h>
#include <net/transp_v6.h>
#include <net/tcp.h>

#include "xtcp.h"

/* Expiry work per timer run; the rest waits for the next jiffy. */
#define XTCP_TW_REAP_BATCH 1024

static struct kmem_cache *xtcp_tw_cachep __read_mostly;

/**
 * struct xtcp_tw_class - the TIME_WAIT entries of one duration
 * @expiry: its entries, earliest expiry first
 * @timer: set for the first entry's expiry; pending or running as long as
 *	the class exists
 * @xn: the namespace state
 * @duration: 2 x MSL of its entries, ms; its key in xn->tw.classes
 */
struct xtcp_tw_class {
	struct list_head expiry;
	struct timer_list timer;
	struct xtcp_net *xn;
	u32 duration;
};

static const struct rhashtable_params xtcp_tw_params = {
	.key_len = sizeof(struct xtcp_tuple),
	.hashfn = xtcp_tuple_hashfn,
	.key_offset = offsetof(struct xtcp_tw, tuple),
	.head_offset = offsetof(struct xtcp_tw, node),
	.automatic_shrinking = true,
};

/*
 * RFC 6191: the ISN of a connection that takes over a TIME_WAIT 4-tuple
 * lies a whole window above anything the old one sent, and is never 0
 * (0 in the control block means "none").
 */
static u32 xtcp_tw_isn(const struct xtcp_tw *tw)
{
	return tw->snd_nxt + 65535 + 2 ?: 1;
}

static void xtcp_tw_free_rcu(struct rcu_head *head)
{
	kmem_cache_free(xtcp_tw_cachep, container_of(head, struct xtcp_tw,
						     rcu));
}

static void __xtcp_tw_kill(struct xtcp_net *xn, struct xtcp_tw *tw)
{
	lockdep_assert_held(&xn->bind_lock);

	rhashtable_remove_fast(&xn->tw.hash, &tw->node, xtcp_tw_params);
	hlist_del(&tw->bind_node);
	list_del(&tw->expiry_node);
	tw->dead = 1;
	xn->tw.count--;
	call_rcu(&tw->rcu, xtcp_tw_free_rcu);
}

static void xtcp_tw_class_timer(struct timer_list *t)
{
	struct xtcp_tw_class *cls = from_timer(cls, t, timer);
	struct xtcp_net *xn = cls->xn;
	int budget = XTCP_TW_REAP_BATCH;
	struct xtcp_tw *tw, *next;

	spin_lock(&xn->bind_lock);
	/* A dying namespace frees the classes itself. */
	if (xn->tw.dying)
		goto out;
	list_for_each_entry_safe(tw, next, &cls->expiry, expiry_node) {
		if (time_before(jiffies, tw->expires)) {
			mod_timer(&cls->timer, tw->expires);
			goto out;
		}
		if (!budget--) {
			mod_timer(&cls->timer, jiffies + 1);
			goto out;
		}
		__xtcp_tw_kill(xn, tw);
	}
	/* Empty: nobody can find the class once it is out of the xarray,
	 * and nobody re-arms the timer someone may have armed meanwhile.
	 */
	timer_shutdown(&cls->timer);
	xa_erase(&xn->tw.classes, cls->duration);
	spin_unlock(&xn->bind_lock);
	kfree(cls);
	return;
out:
	spin_unlock(&xn->bind_lock);
}

/* The class of @duration, created if there is none; NULL without memory. */
static struct xtcp_tw_class *__xtcp_tw_class_get(struct xtcp_net *xn,
						 u32 duration)
{
	struct xtcp_tw_class *cls;

	lockdep_assert_held(&xn->bind_lock);

	cls = xa_load(&xn->tw.classes, duration);
	if (cls)
		return cls;
	cls = kzalloc(sizeof(*cls), GFP_ATOMIC);
	if (!cls)
		return NULL;
	INIT_LIST_HEAD(&cls->expiry);
	timer_setup(&cls->timer, xtcp_tw_class_timer, 0);
	cls->xn = xn;
	cls->duration = duration;
	if (xa_err(xa_store(&xn->tw.classes, duration, cls, GFP_ATOMIC))) {
		kfree(cls);
		return NULL;
	}
	return cls;
}

/* (Re)start the 2MSL of @tw: to the tail of its class, whose order it keeps. */
static void __xtcp_tw_schedule(struct xtcp_net *xn, struct xtcp_tw_class *cls,
			       struct xtcp_tw *tw)
{
	lockdep_assert_held(&xn->bind_lock);

	tw->expires = jiffies + msecs_to_jiffies(tw->duration);
	list_move_tail(&tw->expiry_node, &cls->expiry);
	/* A pending timer is set for an entry at or before this one. */
	if (!timer_pending(&cls->timer) && !xn->tw.dying)
		mod_timer(&cls->timer, tw->expires);
}

static void __xtcp_tw_reschedule(struct xtcp_net *xn, struct xtcp_tw *tw)
{
	struct xtcp_tw_class *cls = xa_load(&xn->tw.classes, tw->duration);

	if (!WARN_ON_ONCE(!cls))
		__xtcp_tw_schedule(xn, cls, tw);
}

/* The entry that expires first, of all classes. */
static struct xtcp_tw *__xtcp_tw_first(struct xtcp_net *xn)
{
	struct xtcp_tw *tw, *first = NULL;
	struct xtcp_tw_class *cls;
	unsigned long duration;

	lockdep_assert_held(&xn->bind_lock);

	xa_for_each(&xn->tw.classes, duration, cls) {
		tw = list_first_entry_or_null(&cls->expiry, struct xtcp_tw,
					      expiry_node);
		if (tw && (!first || time_before(tw->expires, first->expires)))
			first = tw;
	}
	return first;
}

/**
 * xtcp_time_wait() - the active closer's connection enters TIME_WAIT
 * @sk: the socket, its FIN acknowledged and the peer's FIN received
 *
 * A bucket replaces the socket unless the cap says otherwise
 * (max_tw_buckets, tw_overflow); the socket itself goes to CLOSED.
 *
 * Context: socket locked; the caller holds a reference.
 */
void xtcp_time_wait(struct sock *sk)
{
	struct xtcp_net *xn = xtcp_pernet(sock_net(sk));
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct xtcp_tw_class *cls;
	struct xtcp_tw *tw = NULL;
	u32 duration;
	int max;

	xtcp_set_state(sk, TCP_TIME_WAIT);

	spin_lock_bh(&xn->bind_lock);
	if (xn->tw.dying)
		goto out;
	max = xtcp_knob(sock_net(sk), XTCP_KNOB_MAX_TW_BUCKETS);
	if (xn->tw.count >= max) {
		if (xtcp_knob(sock_net(sk), XTCP_KNOB_TW_OVERFLOW) !=
		    XTCP_TW_OVERFLOW_EVICT_OLDEST || !xn->tw.count ||
		    !max) {
			XTCP_INC_STATS(sock_net(sk), XTCP_MIB_TWOVERFLOW);
			/* pr_fmt() supplies the "xtcp: " prefix. */
			net_info_ratelimited("time wait bucket table overflow\n");
			goto out;
		}
		XTCP_INC_STATS(sock_net(sk), XTCP_MIB_TWOVERFLOW);
		/* One look per duration in use (few): the first to expire. */
		__xtcp_tw_kill(xn, __xtcp_tw_first(xn));
	}

	duration = 2 * xtcp_msl(sk);
	cls = __xtcp_tw_class_get(xn, duration);
	if (!cls)
		goto out;

	tw = kmem_cache_alloc(xtcp_tw_cachep, GFP_ATOMIC);
	if (!tw)
		goto out;
	tw->tuple = xs->tuple;
	tw->created = jiffies;
	tw->snd_nxt = xs->snd_nxt;
	tw->rcv_nxt = xs->rcv_nxt;
	tw->ts_recent = xs->ts_recent;
	tw->ts_off = xs->ts_off;
	tw->duration = duration;
	tw->rcv_wscale = xs->rcv_wscale;
	tw->ts_ok = xs->ts_ok;
	tw->reuse = sk->sk_reuse != SK_NO_REUSE;
	tw->v6 = xtcp_sk_is_v6(sk);
	tw->v6only = tw->v6 && ipv6_only_sock(sk);
	tw->txhash = sk->sk_txhash;
	tw->flowlabel = 0;
	/* inet6_sk() is NULL for a socket in TCP_TIME_WAIT already. */
	if (tw->v6 && !ipv6_addr_v4mapped(&tw->tuple.raddr)) {
		const struct ipv6_pinfo *np = inet_sk(sk)->pinet6;

		tw->tos = np->tclass;
		tw->flowlabel = np->flow_label & IPV6_FLOWLABEL_MASK;
	} else {
		tw->tos = inet_sk(sk)->tos;
	}
	tw->dead = 0;
	tw->last_oow_ack = 0;
	if (rhashtable_lookup_insert_fast(&xn->tw.hash, &tw->node,
					  xtcp_tw_params)) {
		kmem_cache_free(xtcp_tw_cachep, tw);
		goto out;
	}
	hlist_add_head(&tw->bind_node,
		       &xn->tw.bhash[xtcp_port_slot(ntohs(tw->tuple.lport))]);
	xn->tw.count++;
	INIT_LIST_HEAD(&tw->expiry_node);
	__xtcp_tw_schedule(xn, cls, tw);
out:
	spin_unlock_bh(&xn->bind_lock);
	xtcp_done(sk);
}

static void xtcp_tw_send_ack(struct net *net, struct sk_buff *skb,
			     const struct xtcp_tw *tw)
{
	struct xtcp_opts opts = { .wscale = -1 };
	struct xtcp_tx_meta m = {
		.txhash = tw->txhash,
		.flowlabel = tw->flowlabel,
		.tos = tw->tos,
		.autolabel = ip6_default_np_autolabel(net),
	};

	if (tw->ts_ok) {
		opts.ts_ok = 1;
		opts.tsval = xtcp_clock_ms() + tw->ts_off;
		opts.tsecr = tw->ts_recent;
	}
	xtcp_send_reply(net, skb, &m, tw->snd_nxt, tw->rcv_nxt, XTCPHDR_ACK,
			U16_MAX >> tw->rcv_wscale, &opts);
}

/**
 * xtcp_tw_rcv() - a segment for a 4-tuple in TIME_WAIT
 * @net: namespace
 * @skb: the segment, validated, control block filled
 * @t: its 4-tuple from this host's point of view
 *
 * RFC 9293 3.10.7.4 for TIME-WAIT, with RFC 1337 and RFC 6191. A new SYN
 * that is clearly newer, for a port with a listener, kills the bucket and
 * is handed back to the caller for that listener, with the ISN to use in
 * the control block.
 *
 * Context: softirq.
 * Return: true if the segment was consumed here.
 */
bool xtcp_tw_rcv(struct net *net, struct sk_buff *skb,
		 const struct xtcp_tuple *t)
{
	struct xtcp_net *xn = xtcp_pernet(net);
	struct xtcp_skb_cb *cb = XTCP_SKB_CB(skb);
	const struct xtcp_opts *opts = &cb->opts;
	bool rst = cb->flags & XTCPHDR_RST;
	struct sock *listener = NULL;
	bool consumed = true;
	struct xtcp_tw *tw;
	bool paws_reject;

	rcu_read_lock();
	tw = rhashtable_lookup(&xn->tw.hash, t, xtcp_tw_params);
	if (!tw) {
		rcu_read_unlock();
		return false;
	}
	spin_lock(&xn->bind_lock);
	if (tw->dead) {
		consumed = false;
		goto out;
	}

	paws_reject = tw->ts_ok && opts->ts_ok &&
		      (s32)(opts->tsval - tw->ts_recent) < 0;

	/* In window: only a RST or a bare ACK can be. */
	if (!paws_reject && cb->seq == tw->rcv_nxt &&
	    (cb->seq == cb->end_seq || rst)) {
		if (!rst) {
			__xtcp_tw_reschedule(xn, tw);
		} else if (!xtcp_knob(net, XTCP_KNOB_RFC1337)) {
			XTCP_INC_STATS(net, XTCP_MIB_TWKILLEDBYRST);
			__xtcp_tw_kill(xn, tw);
		}
		goto out;
	}

	/* RFC 6191: a new SYN, newer by timestamp or by sequence. */
	if ((cb->flags & (XTCPHDR_SYN | XTCPHDR_RST | XTCPHDR_ACK)) ==
	    XTCPHDR_SYN && !paws_reject &&
	    (xtcp_after(cb->seq, tw->rcv_nxt) ||
	     (tw->ts_ok && opts->ts_ok &&
	      (s32)(tw->ts_recent - opts->tsval) < 0))) {
		/* Only a listener can take the 4-tuple over; without one
		 * the SYN is answered from TIME_WAIT below and the entry
		 * stays, as in Linux (tcp_v4_rcv(), TCP_TW_SYN).
		 */
		listener = xtcp_listener_lookup(net, &t->laddr, t->lport,
						xtcp_iif(skb));
		if (listener) {
			cb->tw_isn = xtcp_tw_isn(tw);
			XTCP_INC_STATS(net, XTCP_MIB_TWRECYCLEDBYSYN);
			__xtcp_tw_kill(xn, tw);
			consumed = false;
			goto out;
		}
	}

	if (!rst) {
		/* A retransmitted FIN (our last ACK was lost), or an old
		 * duplicate: ACK it, and for a FIN restart 2MSL. Segments
		 * without data, or with SYN, only once per invalid_ratelimit
		 * (Linux's tcp_timewait_check_oow_rate_limit()): an entry must
		 * not reflect a flood.
		 */
		if (paws_reject || cb->flags & XTCPHDR_ACK)
			__xtcp_tw_reschedule(xn, tw);
		if ((cb->seq != cb->end_seq && !(cb->flags & XTCPHDR_SYN)) ||
		    !xtcp_oow_rate_limited(net, &tw->last_oow_ack,
					   XTCP_MIB_ACKSKIPPEDTIMEWAIT))
			xtcp_tw_send_ack(net, skb, tw);
	}
out:
	spin_unlock(&xn->bind_lock);
	rcu_read_unlock();
	if (listener)
		sock_put(listener);
	if (consumed)
		kfree_skb(skb);
	return consumed;
}

/**
 * xtcp_tw_check_reuse() - may connect() take a 4-tuple held in TIME_WAIT?
 * @sk: the connecting socket, its four addresses set
 *
 * Documentation/xtcp.rst, "Reuse on connect": with tw_reuse on (or on for loopback), a bucket
 * of a connection that used timestamps and is older than tw_reuse_delay
 * is replaced; the new ISN goes above the old snd_nxt. Timestamps are
 * newer by construction: the offset is a function of the 4-tuple and the
 * clock only moves forward.
 *
 * Context: socket locked, xn->bind_lock held.
 * Return: 0 if the 4-tuple is free (or was freed), -EADDRNOTAVAIL if not.
 */
int xtcp_tw_check_reuse(struct sock *sk)
{
	struct xtcp_net *xn = xtcp_pernet(sock_net(sk));
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct net *net = sock_net(sk);
	struct xtcp_tuple t;
	struct xtcp_tw *tw;
	int reuse, delay;

	lockdep_assert_held(&xn->bind_lock);

	if (!xn->tw.count)
		return 0;
	xtcp_tuple_of_sk(sk, &t);
	tw = rhashtable_lookup_fast(&xn->tw.hash, &t, xtcp_tw_params);
	if (!tw)
		return 0;

	reuse = xtcp_knob(net, XTCP_KNOB_TW_REUSE);
	if (reuse == XTCP_TW_REUSE_LOOPBACK)
		reuse = xtcp_addr_loopback(&t.laddr) ||
			xtcp_addr_loopback(&t.raddr);
	delay = xtcp_knob(net, XTCP_KNOB_TW_REUSE_DELAY);
	if (!reuse || !tw->ts_ok ||
	    time_before(jiffies, tw->created + msecs_to_jiffies(delay)))
		return -EADDRNOTAVAIL;

	xs->iss = xtcp_tw_isn(tw);
	xs->tw_reused = 1;
	XTCP_INC_STATS(net, XTCP_MIB_TWREUSED);
	__xtcp_tw_kill(xn, tw);
	return 0;
}

/**
 * xtcp_tw_port_conflict() - does a TIME_WAIT bucket forbid a bind()?
 * @xn: namespace state
 * @addr: the local address asked for, wildcard included
 * @port: the local port asked for
 * @reuse: the binding socket has SO_REUSEADDR
 *
 * As in TCP: a port held in TIME_WAIT can be bound only when both the new
 * socket and the old connection had SO_REUSEADDR.
 *
 * Context: xn->bind_lock held.
 * Return: true on conflict.
 */
bool xtcp_tw_port_conflict(struct xtcp_net *xn,
			   const struct xtcp_bind_addr *addr, u16 port,
			   bool reuse)
{
	struct xtcp_bind_addr twaddr;
	struct xtcp_tw *tw;

	lockdep_assert_held(&xn->bind_lock);

	hlist_for_each_entry(tw, &xn->tw.bhash[xtcp_port_slot(port)],
			     bind_node) {
		if (ntohs(tw->tuple.lport) != port)
			continue;
		/* The local address as the socket had it, connected. */
		twaddr.addr6 = tw->tuple.laddr;
		twaddr.addr4 = xtcp_tuple_is_v4(&tw->tuple) ?
			       xtcp_addr_v4(&tw->tuple.laddr) : LOOPBACK4_IPV6;
		twaddr.v6 = tw->v6;
		twaddr.v6only = tw->v6only;
		if (!xtcp_bind_addr_overlap(addr, &twaddr))
			continue;
		if (reuse && tw->reuse)
			continue;
		return true;
	}
	return false;
}

/**
 * xtcp_tw_expires() - when the TIME_WAIT bucket of a 4-tuple expires
 * @net: namespace
 * @t: the 4-tuple, seen from this host
 * @expires: where to store the expiry time, jiffies
 * @v6: where to store whether an AF_INET6 socket left it (xtcp_tw.v6)
 *
 * For sock_diag's single-socket request (diag.c).
 *
 * Context: any; takes the RCU read lock itself.
 * Return: true if a live bucket holds @t.
 */
bool xtcp_tw_expires(struct net *net, const struct xtcp_tuple *t,
		     unsigned long *expires, bool *v6)
{
	struct xtcp_net *xn = xtcp_pernet(net);
	struct xtcp_tw *tw;
	bool found;

	rcu_read_lock();
	tw = rhashtable_lookup(&xn->tw.hash, t, xtcp_tw_params);
	found = tw && !READ_ONCE(tw->dead);
	if (found) {
		*expires = READ_ONCE(tw->expires);
		*v6 = tw->v6;
	}
	rcu_read_unlock();
	return found;
}
EXPORT_SYMBOL_NS_GPL(xtcp_tw_expires, XTCP);

/**
 * xtcp_tw_count() - current number of buckets
 * @net: namespace
 *
 * Context: any.
 * Return: the count.
 */
u32 xtcp_tw_count(struct net *net)
{
	return READ_ONCE(xtcp_pernet(net)->tw.count);
}

/**
 * xtcp_tw_net_init() - the TIME_WAIT table of a new namespace
 * @xn: namespace state
 *
 * Context: process context, pernet init.
 * Return: 0 or -errno.
 */
int xtcp_tw_net_init(struct xtcp_net *xn)
{
	int i;

	xa_init_flags(&xn->tw.classes, XA_FLAGS_LOCK_BH);
	for (i = 0; i < XTCP_BHASH_SIZE; i++)
		INIT_HLIST_HEAD(&xn->tw.bhash[i]);
	xn->tw.count = 0;
	xn->tw.dying = false;
	return rhashtable_init(&xn->tw.hash, &xtcp_tw_params);
}

/**
 * xtcp_tw_net_exit() - purge the buckets of a dying namespace
 * @xn: namespace state
 *
 * Also runs for every namespace at module unload: buckets do not pin the
 * module, they are dropped here. No timer runs afterwards.
 *
 * Context: process context, pernet exit.
 */
void xtcp_tw_net_exit(struct xtcp_net *xn)
{
	struct xtcp_tw *tw, *next;
	struct xtcp_tw_class *cls;
	unsigned long duration;

	/* From here on no class timer acts, and so none frees its class. */
	spin_lock_bh(&xn->bind_lock);
	xn->tw.dying = true;
	spin_unlock_bh(&xn->bind_lock);
	xa_for_each(&xn->tw.classes, duration, cls)
		timer_shutdown_sync(&cls->timer);

	spin_lock_bh(&xn->bind_lock);
	xa_for_each(&xn->tw.classes, duration, cls) {
		list_for_each_entry_safe(tw, next, &cls->expiry, expiry_node)
			__xtcp_tw_kill(xn, tw);
		xa_erase(&xn->tw.classes, duration);
		kfree(cls);
	}
	spin_unlock_bh(&xn->bind_lock);
	xa_destroy(&xn->tw.classes);
	rhashtable_destroy(&xn->tw.hash);
}

/**
 * xtcp_tw_init() - create the bucket cache
 *
 * Context: module init.
 * Return: 0 or -ENOMEM.
 */
int xtcp_tw_init(void)
{
	/* An entry is a fraction of Linux's 256-byte tw_sock_TCP: keep it. */
	BUILD_BUG_ON(sizeof(struct xtcp_tw) > 128);
	xtcp_tw_cachep = KMEM_CACHE(xtcp_tw, 0);
	return xtcp_tw_cachep ? 0 : -ENOMEM;
}

/**
 * xtcp_tw_exit() - destroy the bucket cache
 *
 * Context: module exit, after every namespace was purged.
 */
void xtcp_tw_exit(void)
{
	rcu_barrier();	/* pending xtcp_tw_free_rcu() calls */
	kmem_cache_destroy(xtcp_tw_cachep);
}
