// SPDX-License-Identifier: GPL-2.0
/*
 * sock_diag (Documentation/xtcp.rst, "sock_diag"): xtcp_diag.ko, an
 * inet_diag handler for xtcp's protocol number, so that NETLINK_SOCK_DIAG
 * requests with sdiag_protocol 253 list listeners, connections and
 * TIME_WAIT entries in the messages TCP's handler sends, and answer for
 * one socket.
 *
 * A module of its own, as tcp_diag.ko is for TCP: inet_diag loads it
 * through its alias when a request names the protocol, and xtcp.ko does
 * not depend on inet_diag. It uses xtcp.ko's tables through the few
 * symbols xtcp.ko exports in the XTCP namespace (main.c), and so holds
 * xtcp.ko loaded while it is.
 *
 * Both address families, as TCP's handler: a request for AF_INET lists
 * AF_INET sockets and the TIME_WAIT entries they left, one for AF_INET6
 * the AF_INET6 ones, IPv4-mapped connections included (as
 * /proc/net/xtcp and /proc/net/xtcp6 split them, proc.c).
 *
 * A dump walks the namespace's three tables in turn (hash.c, timewait.c),
 * a batch at a time: up to XTCP_DIAG_BATCH entries are picked under the
 * table's lock (listeners: bind_lock, one bucket at a time; connections
 * and TIME_WAIT: RCU, through an rhashtable walker), with a reference on
 * each socket or a copy of each TIME_WAIT entry. They are written to the
 * netlink skb once the lock is dropped, so that INET_DIAG_INFO may take
 * the socket lock. Between batches and between the dump's calls, the
 * walk is only a position in cb->args:
 *
 *   args[0]  the table (enum xtcp_diag_phase)
 *   args[1]  listener bucket, or walker slot
 *   args[2]  listeners of the bucket passed, or walker skip count
 *
 * When the skb is full, the position before the first entry not written
 * is kept, and the next call starts there. As with /proc/net/xtcp and
 * TCP's own dump, an entry may be missed or shown twice only if the
 * tables change meanwhile (a resize of the rhashtable included).
 */

#include <linux/inet_diag.h>
#include <linux/module.h>
#include <linux/rhashtable.h>
#include <linux/sock_diag.h>
#include <net/inet_timewait_sock.h>
#include <net/netlink.h>
#include <net/sock.h>
#include <net/tcp.h>

#include "xtcp.h"

/* Entries picked under a lock, then written without it. */
#define XTCP_DIAG_BATCH 16
/* Entries looked at in one RCU section of a walk, picked or not. */
#define XTCP_DIAG_SCAN 256

enum xtcp_diag_phase {
	XTCP_DIAG_LISTEN,
	XTCP_DIAG_CONN,
	XTCP_DIAG_TW,
	XTCP_DIAG_DONE,
};

/**
 * struct xtcp_diag_entry - one entry picked for the skb
 * @sk: a listener or connection, referenced; NULL for TIME_WAIT
 * @tuple: the TIME_WAIT entry's 4-tuple
 * @expires: its expiry, jiffies
 * @pos: the walk's position before this entry (args[1], args[2])
 * @v6: the TIME_WAIT entry is an AF_INET6 socket's (xtcp_tw.v6)
 */
struct xtcp_diag_entry {
	struct sock *sk;
	struct xtcp_tuple tuple;
	unsigned long expires;
	long pos[2];
	bool v6;
};

/**
 * struct xtcp_diag_batch - what one pick found
 * @e: the entries, in walk order
 * @n: how many
 * @pos: the walk's position after the last entry looked at
 * @end: the table is done
 */
struct xtcp_diag_batch {
	struct xtcp_diag_entry e[XTCP_DIAG_BATCH];
	int n;
	long pos[2];
	bool end;
};

/*
 * Whether the request's family takes an entry of an AF_INET6 socket
 * (@v6) or of an AF_INET one, as inet_diag_dump_icsk() compares
 * sk_family: AF_UNSPEC (the old TCPDIAG requests) takes both.
 */
static bool xtcp_diag_family_ok(const struct inet_diag_req_v2 *r, bool v6)
{
	if (r->sdiag_family == AF_UNSPEC)
		return true;
	return r->sdiag_family == (v6 ? AF_INET6 : AF_INET);
}

/* The request's filters that need no bytecode: state and ports. */
static bool xtcp_diag_wanted(const struct inet_diag_req_v2 *r, int state,
			     __be16 sport, __be16 dport)
{
	if (!(r->idiag_states & (1 << state)))
		return false;
	if (r->id.idiag_sport && r->id.idiag_sport != sport)
		return false;
	return !r->id.idiag_dport || r->id.idiag_dport == dport;
}

static size_t xtcp_diag_msg_size(void)
{
	return NLMSG_ALIGN(sizeof(struct inet_diag_msg)) +
	       inet_diag_msg_attrs_size() +
	       nla_total_size(sizeof(struct inet_diag_meminfo)) +
	       nla_total_size(SK_MEMINFO_VARS * sizeof(u32)) +
	       nla_total_size_64bit(sizeof(struct tcp_info)) +
	       nla_total_size(TCP_CA_NAME_MAX);
}

static int xtcp_diag_put_info(struct sock *sk, struct sk_buff *skb)
{
	struct nlattr *attr;
	bool slow;

	attr = nla_reserve_64bit(skb, INET_DIAG_INFO, sizeof(struct tcp_info),
				 INET_DIAG_PAD);
	if (!attr)
		return -EMSGSIZE;
	if (inet_sk_state_load(sk) == TCP_LISTEN) {
		xtcp_get_tcp_info(sk, nla_data(attr));
		return 0;
	}
	slow = lock_sock_fast(sk);
	xtcp_get_tcp_info(sk, nla_data(attr));
	unlock_sock_fast(sk, slow);
	return 0;
}

/* A reply's header and its zeroed struct inet_diag_msg, in *@m. */
static struct nlmsghdr *xtcp_diag_msg_put(struct sk_buff *skb,
					  struct netlink_callback *cb,
					  u16 flags, struct inet_diag_msg **m)
{
	struct nlmsghdr *nlh;

	nlh = nlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
			cb->nlh->nlmsg_type, sizeof(**m), flags);
	if (!nlh)
		return NULL;
	*m = nlmsg_data(nlh);
	memset(*m, 0, sizeof(**m));
	return nlh;
}

/*
 * The message for a listener or connection, as inet_sk_diag_fill() makes
 * it for TCP; that one cannot be used, it reads the timers of an
 * inet_connection_sock.
 */
static int xtcp_diag_fill_sk(struct sock *sk, struct sk_buff *skb,
			     struct netlink_callback *cb,
			     const struct inet_diag_req_v2 *r, u16 flags,
			     bool net_admin)
{
	struct user_namespace *user_ns = sk_user_ns(NETLINK_CB(cb->skb).sk);
	const struct xtcp_sock *xs = xtcp_sk(sk);
	int ext = r->idiag_ext;
	struct inet_diag_msg *m;
	unsigned long expires;
	struct nlmsghdr *nlh;

	nlh = xtcp_diag_msg_put(skb, cb, flags, &m);
	if (!nlh)
		return -EMSGSIZE;
	inet_diag_msg_common_fill(m, sk);
	m->idiag_state = inet_sk_state_load(sk);

	m->idiag_timer = xtcp_shown_timer(sk, &expires);
	if (m->idiag_timer != XTCP_TR_NONE)
		m->idiag_expires = jiffies_delta_to_msecs(expires - jiffies);
	if (m->idiag_timer == XTCP_TR_RETRANS)
		m->idiag_retrans = READ_ONCE(xs->retransmits);
	else if (m->idiag_timer != XTCP_TR_NONE)
		m->idiag_retrans = READ_ONCE(xs->probes_out);
	xtcp_shown_queues(sk, &m->idiag_rqueue, &m->idiag_wqueue);

	if (inet_diag_msg_attrs_fill(sk, skb, m, ext, user_ns, net_admin))
		goto cancel;

	if (ext & (1 << (INET_DIAG_MEMINFO - 1))) {
		struct inet_diag_meminfo minfo = {
			.idiag_rmem = sk_rmem_alloc_get(sk),
			.idiag_wmem = READ_ONCE(sk->sk_wmem_queued),
			.idiag_fmem = sk_forward_alloc_get(sk),
			.idiag_tmem = sk_wmem_alloc_get(sk),
		};

		if (nla_put(skb, INET_DIAG_MEMINFO, sizeof(minfo), &minfo))
			goto cancel;
	}
	if (ext & (1 << (INET_DIAG_SKMEMINFO - 1)) &&
	    sock_diag_put_meminfo(sk, skb, INET_DIAG_SKMEMINFO))
		goto cancel;
	if (ext & (1 << (INET_DIAG_INFO - 1)) && xtcp_diag_put_info(sk, skb))
		goto cancel;
	/* The one congestion control, as TCP_CONGESTION reports it. */
	if (ext & (1 << (INET_DIAG_CONG - 1)) &&
	    nla_put_string(skb, INET_DIAG_CONG, "reno"))
		goto cancel;

	nlmsg_end(skb, nlh);
	return 0;

cancel:
	nlmsg_cancel(skb, nlh);
	return -EMSGSIZE;
}

/*
 * A TIME_WAIT entry as TCP shows one: timer 3 with the time left in ms,
 * no queues, owner or inode, the family of the socket it was, addresses
 * as inet_diag_msg_common_fill() puts them (an AF_INET6 entry's in full,
 * IPv4-mapped ones included). xtcp's entries keep no socket cookie: 0.
 */
static int xtcp_diag_fill_tw(const struct xtcp_diag_entry *e,
			     struct sk_buff *skb, struct netlink_callback *cb,
			     u16 flags)
{
	struct inet_diag_msg *m;
	struct nlmsghdr *nlh;

	nlh = xtcp_diag_msg_put(skb, cb, flags, &m);
	if (!nlh)
		return -EMSGSIZE;
	m->idiag_state = TCP_TIME_WAIT;
	m->idiag_timer = XTCP_TR_TIMEWAIT;
	m->idiag_expires = jiffies_delta_to_msecs(e->expires - jiffies);
	m->id.idiag_sport = e->tuple.lport;
	m->id.idiag_dport = e->tuple.rport;
	if (e->v6) {
		m->idiag_family = AF_INET6;
		memcpy(m->id.idiag_src, &e->tuple.laddr, sizeof(e->tuple.laddr));
		memcpy(m->id.idiag_dst, &e->tuple.raddr, sizeof(e->tuple.raddr));
	} else {
		m->idiag_family = AF_INET;
		m->id.idiag_src[0] = xtcp_addr_v4(&e->tuple.laddr);
		m->id.idiag_dst[0] = xtcp_addr_v4(&e->tuple.raddr);
	}
	nlmsg_end(skb, nlh);
	return 0;
}

/*
 * The bytecode filter for a TIME_WAIT entry: inet_diag_bc_sk() reads only
 * the common part of a socket and, for TIME_WAIT, the mark, so a zeroed
 * inet_timewait_sock with the 4-tuple stands in for the entry: for an
 * AF_INET6 one, the IPv6 addresses the filter compares (entry_fill_addrs()
 * reads those of an AF_INET6 socket; it matches IPv4 conditions against
 * IPv4-mapped ones itself).
 */
static bool xtcp_diag_tw_match(const struct nlattr *bc,
			       const struct xtcp_diag_entry *e)
{
	struct inet_timewait_sock tw = {};

	if (!bc)
		return true;
	tw.tw_family = AF_INET;
	tw.tw_state = TCP_TIME_WAIT;
	tw.tw_rcv_saddr = xtcp_addr_v4(&e->tuple.laddr);
	tw.tw_daddr = xtcp_addr_v4(&e->tuple.raddr);
#if IS_ENABLED(CONFIG_IPV6)
	if (e->v6) {
		tw.tw_family = AF_INET6;
		tw.tw_v6_rcv_saddr = e->tuple.laddr;
		tw.tw_v6_daddr = e->tuple.raddr;
	}
#endif
	tw.tw_num = ntohs(e->tuple.lport);
	tw.tw_dport = e->tuple.rport;
	return inet_diag_bc_sk(bc, (struct sock *)&tw);
}

/* Listeners of args[1]'s bucket from args[2] on, or of the next bucket. */
static void xtcp_diag_pick_listeners(struct xtcp_net *xn,
				     const struct inet_diag_req_v2 *r,
				     const long *args,
				     struct xtcp_diag_batch *b)
{
	long bucket = args[1], skip = args[2], i;
	struct sock *sk;

	for (; bucket < XTCP_BHASH_SIZE; bucket++, skip = 0) {
		i = 0;
		spin_lock_bh(&xn->bind_lock);
		sk_for_each(sk, &xn->lhash[bucket]) {
			if (i++ < skip)
				continue;
			if (b->n == XTCP_DIAG_BATCH) {
				i--;
				break;
			}
			if (!xtcp_diag_family_ok(r, xtcp_sk_is_v6(sk)) ||
			    !xtcp_diag_wanted(r, TCP_LISTEN,
					      htons(inet_sk(sk)->inet_num), 0) ||
			    !refcount_inc_not_zero(&sk->sk_refcnt))
				continue;
			b->e[b->n].sk = sk;
			b->e[b->n].pos[0] = bucket;
			b->e[b->n].pos[1] = i - 1;
			b->n++;
		}
		spin_unlock_bh(&xn->bind_lock);
		if (b->n) {
			b->pos[0] = bucket;
			b->pos[1] = i;
			return;
		}
	}
	b->pos[0] = bucket;
	b->pos[1] = 0;
	b->end = true;
}

/* Take a connection into the batch if the request wants it. */
static void xtcp_diag_pick_conn(const struct inet_diag_req_v2 *r,
				struct xtcp_sock *xs, struct xtcp_diag_entry *e)
{
	struct sock *sk = &xs->inet.sk;

	if (xtcp_diag_family_ok(r, xtcp_sk_is_v6(sk)) &&
	    xtcp_diag_wanted(r, inet_sk_state_load(sk),
			     htons(inet_sk(sk)->inet_num),
			     inet_sk(sk)->inet_dport) &&
	    refcount_inc_not_zero(&sk->sk_refcnt))
		e->sk = sk;
}

/* Take a TIME_WAIT entry into the batch if the request wants it. */
static void xtcp_diag_pick_tw(const struct inet_diag_req_v2 *r,
			      const struct xtcp_tw *tw,
			      struct xtcp_diag_entry *e)
{
	if (READ_ONCE(tw->dead) || !xtcp_diag_family_ok(r, tw->v6) ||
	    !xtcp_diag_wanted(r, TCP_TIME_WAIT, tw->tuple.lport,
			      tw->tuple.rport))
		return;
	e->tuple = tw->tuple;
	e->expires = READ_ONCE(tw->expires);
	e->v6 = tw->v6;
	e->sk = ERR_PTR(-ENOENT);	/* taken, not a socket */
}

/*
 * Connections or TIME_WAIT entries from the walker position in args[],
 * in one RCU section: the walker is entered and left here, never kept.
 */
static void xtcp_diag_pick_walk(struct rhashtable *ht, bool tw,
				const struct inet_diag_req_v2 *r,
				const long *args, struct xtcp_diag_batch *b)
{
	struct xtcp_diag_entry *e = &b->e[0];
	struct rhashtable_iter iter;
	int scanned = 0;
	void *v;

	rhashtable_walk_enter(ht, &iter);
	iter.slot = args[1];
	iter.skip = args[2];
	rhashtable_walk_start(&iter);
	while (b->n < XTCP_DIAG_BATCH && scanned++ < XTCP_DIAG_SCAN) {
		e->pos[0] = iter.slot;
		e->pos[1] = iter.skip;
		v = rhashtable_walk_next(&iter);
		if (IS_ERR(v))
			continue;	/* resized: rewound to the start */
		if (!v) {
			b->end = true;
			break;
		}
		e->sk = NULL;
		if (tw)
			xtcp_diag_pick_tw(r, v, e);
		else
			xtcp_diag_pick_conn(r, v, e);
		if (e->sk)
			e = &b->e[++b->n];
	}
	b->pos[0] = iter.slot;
	b->pos[1] = iter.skip;
	rhashtable_walk_stop(&iter);
	rhashtable_walk_exit(&iter);
}

static void xtcp_diag_pick(struct xtcp_net *xn,
			   const struct inet_diag_req_v2 *r, const long *args,
			   struct xtcp_diag_batch *b)
{
	u32 states = r->idiag_states;

	b->n = 0;
	b->end = false;
	switch (args[0]) {
	case XTCP_DIAG_LISTEN:
		/* As TCP: a remote port asks for no listener. */
		if (!(states & TCPF_LISTEN) || r->id.idiag_dport)
			b->end = true;
		else
			xtcp_diag_pick_listeners(xn, r, args, b);
		break;
	case XTCP_DIAG_CONN:
		if (!(states & ~(TCPF_LISTEN | TCPF_TIME_WAIT)))
			b->end = true;
		else
			xtcp_diag_pick_walk(&xn->ehash, false, r, args, b);
		break;
	case XTCP_DIAG_TW:
		if (!(states & TCPF_TIME_WAIT))
			b->end = true;
		else
			xtcp_diag_pick_walk(&xn->tw.hash, true, r, args, b);
		break;
	default:
		b->end = true;
	}
}

/*
 * Write the batch's entries that pass the bytecode filter; the references
 * are dropped whatever happens. Returns the index of the first entry
 * that did not fit, or b->n.
 */
static int xtcp_diag_put_batch(struct xtcp_diag_batch *b, struct sk_buff *skb,
			       struct netlink_callback *cb,
			       const struct inet_diag_req_v2 *r)
{
	const struct inet_diag_dump_data *data = cb->data;
	bool net_admin = netlink_net_capable(cb->skb, CAP_NET_ADMIN);
	const struct nlattr *bc = data->inet_diag_nla_bc;
	int i, full = b->n, err = 0;

	for (i = 0; i < b->n; i++) {
		struct xtcp_diag_entry *e = &b->e[i];
		bool is_sk = !IS_ERR(e->sk);

		if (i < full) {
			if (!is_sk && xtcp_diag_tw_match(bc, e))
				err = xtcp_diag_fill_tw(e, skb, cb, NLM_F_MULTI);
			else if (is_sk && inet_diag_bc_sk(bc, e->sk))
				err = xtcp_diag_fill_sk(e->sk, skb, cb, r,
							NLM_F_MULTI,
							net_admin);
			if (err)
				full = i;
		}
		if (is_sk)
			sock_put(e->sk);
	}
	return full;
}

/*
 * inet_diag_handler .dump: every entry the request asks for, continued
 * where the last call stopped. Context: process context, no lock held.
 */
static void xtcp_diag_dump(struct sk_buff *skb, struct netlink_callback *cb,
			   const struct inet_diag_req_v2 *r)
{
	struct xtcp_net *xn = xtcp_net_of(sock_net(skb->sk));
	struct xtcp_diag_batch b;
	int done;

	while (cb->args[0] < XTCP_DIAG_DONE) {
		xtcp_diag_pick(xn, r, cb->args, &b);
		done = xtcp_diag_put_batch(&b, skb, cb, r);
		if (done < b.n) {
			cb->args[1] = b.e[done].pos[0];
			cb->args[2] = b.e[done].pos[1];
			break;
		}
		if (b.end) {
			cb->args[0]++;
			cb->args[1] = 0;
			cb->args[2] = 0;
		} else {
			cb->args[1] = b.pos[0];
			cb->args[2] = b.pos[1];
		}
		cond_resched();
	}
}

/*
 * The exact 4-tuple of a connection, TIME_WAIT entry or listener. As
 * inet_diag_find_one_icsk() looks a request up: AF_INET takes the IPv4
 * addresses, AF_INET6 the IPv6 ones, IPv4-mapped ones as IPv4, which is
 * how the tables key IPv4 4-tuples anyway. Either finds the socket of
 * its 4-tuple whatever its family; the reply gives the family.
 */
static struct sock *xtcp_diag_find(struct net *net,
				   const struct inet_diag_req_v2 *req,
				   struct xtcp_diag_entry *tw)
{
	struct xtcp_tuple t = {
		.lport = req->id.idiag_sport,
		.rport = req->id.idiag_dport,
	};
	const __u32 *cookie = req->id.idiag_cookie;
	struct in6_addr addr;
	struct sock *sk;

	if (req->sdiag_family == AF_INET6) {
		memcpy(&t.laddr, req->id.idiag_src, sizeof(t.laddr));
		memcpy(&t.raddr, req->id.idiag_dst, sizeof(t.raddr));
	} else {
		ipv6_addr_set_v4mapped(req->id.idiag_src[0], &t.laddr);
		ipv6_addr_set_v4mapped(req->id.idiag_dst[0], &t.raddr);
	}
	sk = xtcp_ehash_lookup(net, &t);
	if (!sk && xtcp_tw_expires(net, &t, &tw->expires, &tw->v6)) {
		tw->tuple = t;
		/* The entry shows cookie 0; asking for any is fine too. */
		if ((cookie[0] || cookie[1]) &&
		    (cookie[0] != INET_DIAG_NOCOOKIE ||
		     cookie[1] != INET_DIAG_NOCOOKIE))
			return ERR_PTR(-ENOENT);
		return NULL;
	}
	if (!sk && xtcp_addr_any(&t.raddr) && !t.rport) {
		sk = xtcp_listener_lookup(net, &t.laddr, t.lport,
					  req->id.idiag_if);
		/* Only the listener of exactly this address. */
		if (sk)
			xtcp_sk_rcv_saddr(sk, &addr);
		if (sk && !ipv6_addr_equal(&addr, &t.laddr)) {
			sock_put(sk);
			sk = NULL;
		}
	}
	if (!sk)
		return ERR_PTR(-ENOENT);
	if (sock_diag_check_cookie(sk, cookie)) {
		sock_put(sk);
		return ERR_PTR(-ENOENT);
	}
	return sk;
}

/*
 * inet_diag_handler .dump_one: the entry of one exact 4-tuple (a listener:
 * remote address and port 0), as TCP's inet_diag_dump_one_icsk() answers.
 * Context: process context, no lock held.
 */
static int xtcp_diag_dump_one(struct netlink_callback *cb,
			      const struct inet_diag_req_v2 *req)
{
	bool net_admin = netlink_net_capable(cb->skb, CAP_NET_ADMIN);
	struct net *net = sock_net(cb->skb->sk);
	struct xtcp_diag_entry tw;
	struct sk_buff *rep;
	struct sock *sk;
	int err;

	if (req->sdiag_family != AF_INET &&
	    (!IS_ENABLED(CONFIG_IPV6) || req->sdiag_family != AF_INET6))
		return -EINVAL;

	sk = xtcp_diag_find(net, req, &tw);
	if (IS_ERR(sk))
		return PTR_ERR(sk);

	rep = nlmsg_new(xtcp_diag_msg_size(), GFP_KERNEL);
	if (!rep) {
		err = -ENOMEM;
		goto out;
	}
	if (sk)
		err = xtcp_diag_fill_sk(sk, rep, cb, req, 0, net_admin);
	else
		err = xtcp_diag_fill_tw(&tw, rep, cb, 0);
	if (WARN_ON_ONCE(err)) {
		nlmsg_free(rep);
		goto out;
	}
	err = nlmsg_unicast(net->diag_nlsk, rep, NETLINK_CB(cb->skb).portid);
out:
	if (sk)
		sock_put(sk);
	return err;
}

static struct inet_diag_handler xtcp_diag_handler = {
	XTCP_DIAG_OWNER
	.dump = xtcp_diag_dump,
	.dump_one = xtcp_diag_dump_one,
	.idiag_info_size = sizeof(struct tcp_info),
};

/*
 * Registered for the number xtcp.ko serves, which is loaded (a module
 * dependency) and so has its protocol and tables in every namespace.
 * -EEXIST when the number already has a handler.
 */
static int __init xtcp_diag_init(void)
{
	xtcp_diag_handler.idiag_type = xtcp_proto_number();
	return inet_diag_register(&xtcp_diag_handler);
}

/*
 * inet_diag holds a reference on this module while it calls the handler,
 * so no call is in progress once unregistered.
 */
static void __exit xtcp_diag_exit(void)
{
	inet_diag_unregister(&xtcp_diag_handler);
}

module_init(xtcp_diag_init);
module_exit(xtcp_diag_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("xtcp sock_diag (inet_diag) handler");
MODULE_IMPORT_NS(XTCP);
/*
 * inet_diag asks for "net-pf-16-proto-4-type-<family>-<protocol>" when the
 * protocol is registered and has no handler yet: AF_INET (2) with either
 * number xtcp.ko's "proto" parameter allows, for requests of both
 * families (inet_diag_lock_handler() names AF_INET whatever the request's).
 */
MODULE_ALIAS_NET_PF_PROTO_NAME(PF_NETLINK, NETLINK_SOCK_DIAG,
			       "-type-2-" __stringify(IPPROTO_XTCP));
MODULE_ALIAS_NET_PF_PROTO_NAME(PF_NETLINK, NETLINK_SOCK_DIAG,
			       "-type-2-" __stringify(IPPROTO_XTCP_ALT));
