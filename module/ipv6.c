// SPDX-License-Identifier: GPL-2.0
/*
 * IPv6: everything of xtcp that knows IPv6, as net/ipv6/tcp_ipv6.c for
 * TCP. The socket switch entry that makes socket(AF_INET6, SOCK_STREAM,
 * proto) create an xtcp socket, the IPv6 protocol handler, connect(), the
 * addresses and route of a passive child, and the replies sent without a
 * socket. An AF_INET6 socket with an IPv4 peer (IPv4-mapped, dual stack)
 * is served by the IPv4 operations once connected or accepted
 * (Documentation/xtcp.rst "IPv6").
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bpf-cgroup.h>
#include <linux/filter.h>
#include <linux/ipv6.h>
#include <linux/netfilter.h>
#include <linux/netfilter_ipv6.h>
#include <linux/skbuff.h>
#include <net/addrconf.h>
#include <net/inet6_connection_sock.h>
#include <net/inet_common.h>
#include <net/ip6_checksum.h>
#include <net/ip6_route.h>
#include <net/ipv6.h>
#include <net/ndisc.h>
#include <net/protocol.h>
#include <net/tcp.h>
#include <net/transp_v6.h>
#include <net/xfrm.h>

#include "xtcp.h"

/* An xtcp socket of family AF_INET6: the IPv6 state follows it. */
struct xtcp6_sock {
	struct xtcp_sock xs;
	struct ipv6_pinfo inet6;
};

static void xtcp_v6_send_reset(struct net *net, struct sk_buff *in);

/* The flow label list moved from ipv6_pinfo to inet_sock after 6.1. */
static void xtcp_ipv6_fl_list_clear(struct inet_sock *inet,
				    struct ipv6_pinfo *np)
{
#ifdef XTCP_HAVE_INET_IPV6_FL_LIST
	inet->ipv6_fl_list = NULL;
#else
	np->ipv6_fl_list = NULL;
#endif
}

/* ip6_dst_store() says whether the source was set as a bool after 6.1. */
static void xtcp_ip6_dst_store(struct sock *sk, struct dst_entry *dst)
{
#ifdef XTCP_HAVE_IP6_DST_STORE_BOOL
	ip6_dst_store(sk, dst, NULL, false);
#else
	ip6_dst_store(sk, dst, NULL, NULL);
#endif
}

/**
 * xtcp_v6_send_check() - seed the checksum of a segment of an IPv6 socket
 * @sk: the socket, its addresses set
 * @th: the segment's header
 * @len: the segment's length, header included
 *
 * th->check gets the IPv6 pseudo-header sum (RFC 8200 section 8.1) with
 * our protocol number as the next header.
 *
 * Context: any.
 */
void xtcp_v6_send_check(const struct sock *sk, struct tcphdr *th,
			unsigned int len)
{
	th->check = ~csum_ipv6_magic(&inet6_sk(sk)->saddr, &sk->sk_v6_daddr,
				     len, sk->sk_protocol, 0);
}

static int xtcp_v6_pre_connect(struct sock *sk, struct sockaddr *uaddr,
			       int addr_len)
{
	if (addr_len < SIN6_LEN_RFC2133)
		return -EINVAL;
	return xtcp_bpf_cgroup_inet6_connect(sk, uaddr, &addr_len);
}

/*
 * connect() of an AF_INET6 socket to an IPv4-mapped address, as Linux's
 * tcp_v6_connect(): the connection is IPv4's, made and served by the IPv4
 * operations, its names the IPv4-mapped addresses (sk_daddr_set() and
 * sk_rcv_saddr_set() keep sk_v6_daddr and sk_v6_rcv_saddr so). An
 * IPv6-only socket cannot reach an IPv4 peer: ENETUNREACH, as TCP.
 * Context: socket locked.
 */
static int xtcp_v6_connect_mapped(struct sock *sk,
				  const struct sockaddr_in6 *usin)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_port = usin->sin6_port,
		.sin_addr.s_addr = usin->sin6_addr.s6_addr32[3],
	};
	int err;

	if (ipv6_only_sock(sk))
		return -ENETUNREACH;
	WRITE_ONCE(xs->af_ops, &xtcp_v4_af_ops);
	err = xtcp_v4_connect(sk, (struct sockaddr *)&sin, sizeof(sin));
	if (err) {
		WRITE_ONCE(xs->af_ops, &xtcp_v6_af_ops);
		return err;
	}
	inet6_sk(sk)->saddr = sk->sk_v6_rcv_saddr;
	return 0;
}

/*
 * struct proto .connect: route, port, SYN, as tcp_v6_connect(); an
 * IPv4-mapped peer goes to xtcp_v6_connect_mapped(). Context: socket
 * locked.
 */
static int xtcp_v6_connect(struct sock *sk, struct sockaddr *uaddr,
			   int addr_len)
{
	struct sockaddr_in6 *usin = (struct sockaddr_in6 *)uaddr;
	struct inet_sock *inet = inet_sk(sk);
	struct ipv6_pinfo *np = inet6_sk(sk);
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct in6_addr *final_p, final;
	struct ipv6_txoptions *opt;
	struct dst_entry *dst;
	struct flowi6 fl6;
	int addr_type;
	u32 iss;
	int err;

	if (addr_len < SIN6_LEN_RFC2133)
		return -EINVAL;
	if (usin->sin6_family != AF_INET6)
		return -EAFNOSUPPORT;
	if (!usin->sin6_port)
		return -EADDRNOTAVAIL;
	if (sk->sk_state != TCP_CLOSE)
		return -EISCONN;

	memset(&fl6, 0, sizeof(fl6));
	/* IPV6_FLOWINFO_SEND: the flow label of sin6_flowinfo, which
	 * must be one this socket holds (IPV6_FLOWLABEL_MGR).
	 */
	if (xtcp_inet6_sndflow(sk)) {
		fl6.flowlabel = usin->sin6_flowinfo & IPV6_FLOWINFO_MASK;
		IP6_ECN_flow_init(fl6.flowlabel);
		if (fl6.flowlabel & IPV6_FLOWLABEL_MASK) {
			struct ip6_flowlabel *flowlabel;

			flowlabel = fl6_sock_lookup(sk, fl6.flowlabel);
			if (IS_ERR(flowlabel))
				return -EINVAL;
			fl6_sock_release(flowlabel);
		}
	}
	if (ipv6_addr_any(&usin->sin6_addr))
		usin->sin6_addr = in6addr_loopback;
	addr_type = ipv6_addr_type(&usin->sin6_addr);
	if (addr_type & IPV6_ADDR_MULTICAST)
		return -ENETUNREACH;
	if (addr_type & IPV6_ADDR_MAPPED)
		return xtcp_v6_connect_mapped(sk, usin);
	WRITE_ONCE(xs->af_ops, &xtcp_v6_af_ops);
	if (addr_type & IPV6_ADDR_LINKLOCAL) {
		if (addr_len >= sizeof(struct sockaddr_in6) &&
		    usin->sin6_scope_id) {
			if (!sk_dev_equal_l3scope(sk, usin->sin6_scope_id))
				return -EINVAL;
			sk->sk_bound_dev_if = usin->sin6_scope_id;
		}
		if (!sk->sk_bound_dev_if)
			return -EINVAL;
	}

	sk->sk_v6_daddr = usin->sin6_addr;
	np->flow_label = fl6.flowlabel;

	fl6.flowi6_proto = sk->sk_protocol;
	fl6.daddr = sk->sk_v6_daddr;
	fl6.saddr = ipv6_addr_any(&sk->sk_v6_rcv_saddr) ? in6addr_any :
							   sk->sk_v6_rcv_saddr;
	fl6.flowi6_oif = sk->sk_bound_dev_if;
	fl6.flowi6_mark = sk->sk_mark;
	fl6.fl6_dport = usin->sin6_port;
	fl6.fl6_sport = inet->inet_sport;
	fl6.flowi6_uid = sk->sk_uid;
	opt = rcu_dereference_protected(np->opt, lockdep_sock_is_held(sk));
	final_p = fl6_update_dst(&fl6, opt, &final);
	security_sk_classify_flow(sk, flowi6_to_flowi_common(&fl6));

	dst = ip6_dst_lookup_flow(sock_net(sk), sk, &fl6, final_p);
	if (IS_ERR(dst)) {
		err = PTR_ERR(dst);
		goto failure_addr;
	}

	if (ipv6_addr_any(&sk->sk_v6_rcv_saddr)) {
		sk->sk_v6_rcv_saddr = fl6.saddr;
		inet->inet_rcv_saddr = LOOPBACK4_IPV6;
	}
	np->saddr = fl6.saddr;
	inet->inet_saddr = LOOPBACK4_IPV6;
	inet->inet_daddr = LOOPBACK4_IPV6;
	inet->inet_dport = usin->sin6_port;
	/* Segmentation offload as for IPv4 (offload.c). */
	sk->sk_gso_type = SKB_GSO_SCTP;
	xtcp_ip6_dst_store(sk, dst);

	xtcp_set_state(sk, TCP_SYN_SENT);
	xs->tw_reused = 0;
	err = xtcp_hash_connect(sk);
	if (err)
		goto failure;

	iss = xtcp_secure_seq(&xs->tuple, &xs->ts_off);
	xs->iss = xs->tw_reused ? xs->iss : iss;
	xs->tw_reused = 0;
	/* A random flow hash, the automatic flow label's (RFC 6437). */
	sk_set_txhash(sk);

	err = xtcp_connect(sk);
	if (err)
		goto failure;
	return 0;

failure:
	__xtcp_set_state(sk, TCP_CLOSE, false);
	xtcp_ehash_remove(sk);
	if (!(sk->sk_userlocks & SOCK_BINDPORT_LOCK))
		xtcp_put_port(sk);
	sk_dst_reset(sk);
	sk->sk_route_caps = 0;
	inet->inet_dport = 0;
failure_addr:
	sk->sk_v6_daddr = in6addr_any;
	return err;
}

/*
 * A passive child is a clone of its listener, whose IPv6 state it points
 * at: give it its own, with nothing the listener owns (options, multicast
 * and anycast lists, flow labels, packet options). Child locked, BHs off.
 */
static void xtcp_v6_child_own_pinfo(struct sock *child)
{
	struct xtcp6_sock *child6 = (struct xtcp6_sock *)child;
	struct inet_sock *newinet = inet_sk(child);
	struct ipv6_pinfo *newnp = &child6->inet6;

	newinet->pinet6 = newnp;
	RCU_INIT_POINTER(newnp->opt, NULL);
	newnp->ipv6_mc_list = NULL;
	newnp->ipv6_ac_list = NULL;
	xtcp_ipv6_fl_list_clear(newinet, newnp);
	newnp->pktoptions = NULL;
	newnp->flow_label = 0;
}

/* Addresses and ports of a passive child; child locked, BHs off. */
static void xtcp_v6_child_init(struct sock *child, const struct sk_buff *skb)
{
	const struct ipv6hdr *ip6h = ipv6_hdr(skb);
	const struct tcphdr *th = tcp_hdr(skb);
	struct inet_sock *newinet = inet_sk(child);
	struct ipv6_pinfo *newnp;

	xtcp_v6_child_own_pinfo(child);
	newnp = inet6_sk(child);
	RCU_INIT_POINTER(newinet->inet_opt, NULL);
	newinet->mc_list = NULL;

	child->sk_v6_daddr = ip6h->saddr;
	child->sk_v6_rcv_saddr = ip6h->daddr;
	newnp->saddr = ip6h->daddr;
	newinet->inet_daddr = LOOPBACK4_IPV6;
	newinet->inet_saddr = LOOPBACK4_IPV6;
	newinet->inet_rcv_saddr = LOOPBACK4_IPV6;
	newinet->inet_dport = th->source;
	newinet->inet_sport = th->dest;
	newinet->inet_num = ntohs(th->dest);
	/* A listener that reflects flow labels: the peer's, as TCP's
	 * child takes it from the ACK that completes the handshake.
	 */
	if (xtcp_inet6_repflow(child))
		newnp->flow_label = ip6_flowlabel(ip6h);
	if (ipv6_addr_type(&child->sk_v6_daddr) & IPV6_ADDR_LINKLOCAL)
		child->sk_bound_dev_if = inet6_iif(skb);
}

/**
 * xtcp_v6_mapped_child_init() - the IPv6 state of an IPv4-mapped child
 * @child: the clone of an AF_INET6 listener, its IPv4 addresses and
 *	ports set by the IPv4 operations
 * @skb: the IPv4 segment that created it
 *
 * As the IPv4-mapped branch of Linux's tcp_v6_syn_recv_sock(): the child
 * is served by the IPv4 operations (segments out as IPv4, the IPv4
 * pseudo-header), and its names are the IPv4-mapped addresses, which
 * sk_daddr_set() and sk_rcv_saddr_set() already wrote. Its IPv6 state
 * is its own rather than the listener's, with nothing to free.
 *
 * Context: child locked, BHs off.
 */
void xtcp_v6_mapped_child_init(struct sock *child, const struct sk_buff *skb)
{
	struct ipv6_pinfo *newnp;

	xtcp_v6_child_own_pinfo(child);
	newnp = inet6_sk(child);
	newnp->saddr = child->sk_v6_rcv_saddr;
	newnp->mcast_oif = inet_iif(skb);
	newnp->mcast_hops = ip_hdr(skb)->ttl;
}

static int xtcp_v6_child_route(struct sock *child)
{
	struct ipv6_pinfo *np = inet6_sk(child);
	struct dst_entry *dst;
	struct flowi6 fl6;

	memset(&fl6, 0, sizeof(fl6));
	fl6.flowi6_proto = child->sk_protocol;
	fl6.daddr = child->sk_v6_daddr;
	fl6.saddr = np->saddr;
	fl6.flowi6_oif = child->sk_bound_dev_if;
	fl6.flowi6_mark = child->sk_mark;
	fl6.fl6_dport = inet_sk(child)->inet_dport;
	fl6.fl6_sport = inet_sk(child)->inet_sport;
	fl6.flowi6_uid = child->sk_uid;
	security_sk_classify_flow(child, flowi6_to_flowi_common(&fl6));
	dst = ip6_dst_lookup_flow(sock_net(child), child, &fl6, NULL);
	if (IS_ERR(dst))
		return PTR_ERR(dst);
	child->sk_gso_type = SKB_GSO_SCTP;
	xtcp_ip6_dst_store(child, dst);
	return 0;
}

static void xtcp_v6_tuple_of_skb(const struct sk_buff *skb,
				 struct xtcp_tuple *t)
{
	const struct ipv6hdr *ip6h = ipv6_hdr(skb);
	const struct tcphdr *th = tcp_hdr(skb);

	t->laddr = ip6h->daddr;
	t->raddr = ip6h->saddr;
	t->lport = th->dest;
	t->rport = th->source;
}

static u16 xtcp_v6_reply_mss(const struct sk_buff *skb)
{
	unsigned int mtu = READ_ONCE(skb->dev->mtu);

	mtu = clamp_t(unsigned int, mtu, IPV6_MIN_MTU, IPV6_MAXPLEN);
	return min_t(unsigned int, mtu - sizeof(struct ipv6hdr) -
		     XTCP_BASE_HLEN, 65535);
}

/* A route for a segment without a socket, the 4-tuple seen from here. */
static struct dst_entry *xtcp_v6_route_tuple(struct net *net,
					     const struct sock *sk,
					     const struct xtcp_tuple *t,
					     u32 mark, int oif,
					     struct flowi6 *fl6)
{
	memset(fl6, 0, sizeof(*fl6));
	fl6->flowi6_proto = xtcp_protocol;
	fl6->daddr = t->raddr;
	fl6->saddr = t->laddr;
	fl6->flowi6_oif = oif;
	fl6->flowi6_mark = mark;
	fl6->fl6_dport = t->rport;
	fl6->fl6_sport = t->lport;
	fl6->flowi6_uid = sock_net_uid(net, sk);
	return ip6_dst_lookup_flow(net, sk, fl6, NULL);
}

static u16 xtcp_v6_req_mss(const struct sock *sk, const struct xtcp_tuple *t)
{
	u16 user_mss = xtcp_sk(sk)->user_mss;
	struct dst_entry *dst;
	struct flowi6 fl6;
	u32 mss;

	dst = xtcp_v6_route_tuple(sock_net(sk), sk, t, READ_ONCE(sk->sk_mark),
				  sk->sk_bound_dev_if, &fl6);
	if (IS_ERR(dst))
		return 0;
	mss = min_t(u32, dst_mtu(dst), IPV6_MAXPLEN) -
	      sizeof(struct ipv6hdr) - XTCP_BASE_HLEN;
	dst_release(dst);
	if (user_mss)
		mss = min_t(u32, mss, user_mss);
	return min_t(u32, mss, 65535);
}

/*
 * A segment of no full socket (struct xtcp_tx_meta), as xtcp_v4_send_tuple().
 * Its flow label is @m's, or an automatic one from @m's flow hash, or from
 * the 4-tuple without one, as TCP's tcp_v6_send_response() gets from
 * ip6_xmit(). Context: softirq or process context with BHs disabled.
 */
static void xtcp_v6_send_tuple(struct net *net, const struct xtcp_tuple *t,
			       const struct xtcp_tx_meta *m, u32 seq, u32 ack,
			       u8 flags, u16 win, const struct xtcp_opts *opts)
{
	__be32 label;
	unsigned int hlen = XTCP_BASE_HLEN;
	struct dst_entry *dst;
	struct sk_buff *skb;
	struct ipv6hdr *ip6h;
	struct flowi6 fl6;
	struct tcphdr *th;

	if (opts)
		hlen += xtcp_options_size(opts);

	dst = xtcp_v6_route_tuple(net, NULL, t, m->mark, m->oif, &fl6);
	if (IS_ERR(dst))
		return;

	skb = alloc_skb(MAX_HEADER + sizeof(*ip6h) + hlen, GFP_ATOMIC);
	if (!skb) {
		dst_release(dst);
		return;
	}
	skb_reserve(skb, MAX_HEADER + sizeof(*ip6h) + hlen);
	skb_dst_set(skb, dst);
	if (m->txhash)
		skb_set_hash(skb, m->txhash, PKT_HASH_TYPE_L4);
	label = ip6_make_flowlabel(net, skb, m->flowlabel, m->autolabel, &fl6);

	th = xtcp_push_header(skb, t->lport, t->rport, seq, ack, flags,
			      win, opts, NULL);
	th->check = csum_ipv6_magic(&fl6.saddr, &fl6.daddr, hlen,
				    xtcp_protocol, csum_partial(th, hlen, 0));

	ip6h = skb_push(skb, sizeof(*ip6h));
	skb_reset_network_header(skb);
	ip6_flow_hdr(ip6h, m->tos, label);
	ip6h->payload_len = htons(hlen);
	ip6h->nexthdr = xtcp_protocol;
	ip6h->hop_limit = ip6_dst_hoplimit(dst);
	ip6h->saddr = fl6.saddr;
	ip6h->daddr = fl6.daddr;
	skb->protocol = htons(ETH_P_IPV6);

	XTCP_INC_STATS(net, XTCP_MIB_OUTSEGS);
	if (flags & XTCPHDR_RST)
		XTCP_INC_STATS(net, XTCP_MIB_OUTRSTS);
	ip6_local_out(net, NULL, skb);
}

/*
 * An answer to @in (RST, TIME_WAIT ACK, SYN cookie), as
 * xtcp_v4_send_reply(). Without @m, a RST of no socket: an automatic
 * flow label, or @in's if net.ipv6.flowlabel_reflect asks for it
 * (Documentation/networking/ip-sysctl.rst), as TCP's.
 */
static void xtcp_v6_send_reply(struct net *net, struct sk_buff *in,
			       const struct xtcp_tx_meta *m, u32 seq, u32 ack,
			       u8 flags, u16 win, const struct xtcp_opts *opts)
{
	struct xtcp_tx_meta meta = { };
	struct xtcp_tuple t;

	if (m) {
		meta = *m;
	} else {
		meta.autolabel = ip6_default_np_autolabel(net);
		if (READ_ONCE(net->ipv6.sysctl.flowlabel_reflect) &
		    FLOWLABEL_REFLECT_TCP_RESET)
			meta.flowlabel = ip6_flowlabel(ipv6_hdr(in));
	}
	meta.mark = in->mark;
	meta.oif = 0;
	xtcp_v6_tuple_of_skb(in, &t);
	xtcp_v6_send_tuple(net, &t, &meta, seq, ack, flags, win, opts);
}

static void xtcp_v6_send_reset(struct net *net, struct sk_buff *in)
{
	const struct xtcp_skb_cb *cb = XTCP_SKB_CB(in);

	if (tcp_hdr(in)->rst)
		return;
	/* Never answer multicast. */
	if (!ipv6_unicast_destination(in))
		return;

	if (tcp_hdr(in)->ack)
		xtcp_v6_send_reply(net, in, NULL, cb->ack_seq, 0, XTCPHDR_RST,
				   0, NULL);
	else
		xtcp_v6_send_reply(net, in, NULL, 0, cb->end_seq,
				   XTCPHDR_RST | XTCPHDR_ACK, 0, NULL);
}

/*
 * A smaller path MTU, as xtcp_v4_mtu_reduced(): the route learns it
 * (it ignores a larger one), the send MSS follows and what is too large
 * goes again. Socket locked: from xtcp_v6_err() or xtcp_release_cb().
 */
static void xtcp_v6_mtu_reduced(struct sock *sk)
{
	struct xtcp_sock *xs = xtcp_sk(sk);
	struct dst_entry *dst;
	u32 mtu, old_mss;

	if ((1 << sk->sk_state) & (TCPF_LISTEN | TCPF_CLOSE))
		return;
	mtu = READ_ONCE(xs->mtu_info);
	if (mtu < IPV6_MIN_MTU)
		return;
	dst = inet6_csk_update_pmtu(sk, mtu);
	if (!dst)
		return;
	if ((1 << sk->sk_state) & (TCPF_SYN_SENT | TCPF_SYN_RECV))
		return;
	old_mss = xs->mss_cache;
	xtcp_sync_mss(sk, xs->mss_clamp);
	if (xs->mss_cache < old_mss)
		xtcp_retransmit_mtu(sk);
}

static int xtcp_v6_iif(const struct sk_buff *skb)
{
	return inet6_iif(skb);
}

const struct xtcp_af_ops xtcp_v6_af_ops = {
	.queue_xmit = inet6_csk_xmit,
	.send_check = xtcp_v6_send_check,
	.child_init = xtcp_v6_child_init,
	.child_route = xtcp_v6_child_route,
	.tuple_of_skb = xtcp_v6_tuple_of_skb,
	.reply_mss = xtcp_v6_reply_mss,
	.req_mss = xtcp_v6_req_mss,
	.send_tuple = xtcp_v6_send_tuple,
	.send_reply = xtcp_v6_send_reply,
	.send_reset = xtcp_v6_send_reset,
	.mtu_reduced = xtcp_v6_mtu_reduced,
	.iif = xtcp_v6_iif,
	.net_header_len = sizeof(struct ipv6hdr),
};

/*
 * Did @skb come from farther than @sk accepts? IPV6_MINHOPCOUNT (RFC 5082,
 * GTSM): a segment or ICMPv6 error whose hop limit is below the socket's
 * minimum is dropped and counted, as tcp_v6_rcv() and tcp_v6_err() do
 * (MinTTLDrop, TCP's TCPMinTTLDrop). The option is written without the
 * socket lock, hence READ_ONCE().
 */
static bool xtcp_v6_below_min_hops(struct net *net, const struct sock *sk,
				   const struct sk_buff *skb)
{
	const struct ipv6_pinfo *np = inet6_sk(sk);

	if (likely(!np ||
		   ipv6_hdr(skb)->hop_limit >= READ_ONCE(np->min_hopcount)))
		return false;
	XTCP_INC_STATS(net, XTCP_MIB_MINTTLDROP);
	return true;
}

/*
 * Early demux for IPv6, as xtcp_v4_edemux() (Documentation/
 * xtcp-internals.rst, "Early demux") and tcp_v6_early_demux(): only a
 * segment whose fixed header names protocol 253, no extension header
 * before it (ip6_rcv_finish_core() has not parsed them yet). The route
 * is checked against the cookie cached with it (rt6_get_cookie()).
 */
static unsigned int xtcp_v6_edemux(void *priv, struct sk_buff *skb,
				   const struct nf_hook_state *state)
{
	struct xtcp_tuple t;

	if (ipv6_hdr(skb)->nexthdr != xtcp_protocol ||
	    !xtcp_edemux_wanted(state->net, skb))
		return NF_ACCEPT;
	xtcp_v6_tuple_of_skb(skb, &t);
	xtcp_edemux(state->net, skb, &t, AF_INET6);
	return NF_ACCEPT;
}

static const struct nf_hook_ops xtcp_v6_edemux_ops = {
	.hook = xtcp_v6_edemux,
	.pf = NFPROTO_IPV6,
	.hooknum = NF_INET_PRE_ROUTING,
	.priority = NF_IP6_PRI_LAST - 1,
};

/**
 * xtcp_v6_edemux_net_init() - IPv6 early demux for a namespace
 * @net: the namespace, its connection table ready
 *
 * Nothing without IPv6 (ipv6.disable=1).
 *
 * Context: process, namespace creation or module load.
 * Return: 0 or a negative errno.
 */
int xtcp_v6_edemux_net_init(struct net *net)
{
	if (!ipv6_mod_enabled())
		return 0;
	return nf_register_net_hook(net, &xtcp_v6_edemux_ops);
}

/**
 * xtcp_v6_edemux_net_exit() - undo xtcp_v6_edemux_net_init()
 * @net: the namespace
 *
 * Context: process, namespace exit or module unload.
 */
void xtcp_v6_edemux_net_exit(struct net *net)
{
	if (ipv6_mod_enabled())
		nf_unregister_net_hook(net, &xtcp_v6_edemux_ops);
}

/* The route cookie xtcp_v6_edemux() checks a cached route against. */
static u32 xtcp_v6_dst_cookie(const struct sk_buff *skb)
{
	const struct dst_entry *dst = skb_dst(skb);

	if (!dst || dst->ops->family != AF_INET6)
		return 0;
	return rt6_get_cookie(container_of(dst, struct rt6_info, dst));
}

/* The IPv6 protocol handler: as xtcp_v4_rcv(). Context: softirq. */
static int xtcp_v6_rcv(struct sk_buff *skb)
{
	struct net *net = dev_net(skb->dev);
	enum skb_drop_reason reason;
	const struct ipv6hdr *ip6h;
	struct xtcp_tuple t;
	struct sock *sk;

	reason = SKB_DROP_REASON_NOT_SPECIFIED;
	if (skb->pkt_type != PACKET_HOST)
		goto discard;

	XTCP_INC_STATS(net, XTCP_MIB_INSEGS);
	if (skb_shinfo(skb)->gso_segs > 1)
		XTCP_INC_STATS(net, XTCP_MIB_INGSOSKBS);

	reason = xtcp_rcv_check_header(skb);
	if (reason)
		goto bad_segment;
	if (skb_checksum_init(skb, xtcp_protocol, ip6_compute_pseudo) ||
	    (!skb_csum_unnecessary(skb) && __skb_checksum_complete(skb)))
		goto csum_error;
	reason = xtcp_rcv_prepare(skb);
	if (reason)
		goto bad_segment;

	reason = SKB_DROP_REASON_NOT_SPECIFIED;
	ip6h = ipv6_hdr(skb);
	/* No IPv4-mapped source in an IPv6 segment (RFC 4942 2.2). */
	if (ipv6_addr_v4mapped(&ip6h->saddr) ||
	    ipv6_addr_v4mapped(&ip6h->daddr) ||
	    ipv6_addr_is_multicast(&ip6h->daddr))
		goto discard;

	xtcp_v6_tuple_of_skb(skb, &t);
	sk = xtcp_steal_sock(skb);
	if (!sk)
		sk = xtcp_ehash_lookup(net, &t);
	if (!sk) {
		if (xtcp_tw_rcv(net, skb, &t))
			return 0;
		sk = xtcp_listener_lookup(net, &t.laddr, t.lport,
					  inet6_iif(skb));
	}
	if (!sk)
		goto no_socket;

	reason = SKB_DROP_REASON_TCP_MINTTL;
	if (unlikely(xtcp_v6_below_min_hops(net, sk, skb)))
		goto discard_put;
	reason = SKB_DROP_REASON_XFRM_POLICY;
	if (!xfrm6_policy_check(sk, XFRM_POLICY_IN, skb))
		goto discard_put;
	nf_reset_ct(skb);
	reason = SKB_DROP_REASON_SOCKET_FILTER;
	if (sk_filter_trim_cap(sk, skb, tcp_hdrlen(skb)))
		goto discard_put;
	xtcp_rcv_pull(skb);
	if (sk->sk_state != TCP_LISTEN)
		xtcp_rx_dst_set(sk, skb, xtcp_v6_dst_cookie(skb));

	skb = xtcp_rightsize(net, skb);
	reason = xtcp_rcv_sock(sk, skb);
	if (reason)
		goto discard;
	return 0;

no_socket:
	reason = SKB_DROP_REASON_NO_SOCKET;
	if (!xfrm6_policy_check(NULL, XFRM_POLICY_IN, skb))
		goto discard;
	xtcp_v6_send_reset(net, skb);
	goto discard;

csum_error:
	reason = SKB_DROP_REASON_TCP_CSUM;
	XTCP_INC_STATS(net, XTCP_MIB_INCSUMERRORS);
bad_segment:
	XTCP_INC_STATS(net, XTCP_MIB_INERRS);
	goto discard;

discard_put:
	sock_put(sk);
discard:
	kfree_skb_reason(skb, reason);
	return 0;
}

/* An ICMPv6 redirect: the route learns the new first hop (RFC 4861 8). */
static void xtcp_v6_redirect(struct sk_buff *skb, struct sock *sk)
{
	struct dst_entry *dst = __sk_dst_check(sk, inet6_sk(sk)->dst_cookie);

	if (dst)
		dst->ops->redirect(dst, sk, skb);
}

/*
 * The errno an ICMPv6 error reports and whether it is fatal to a
 * half-open entry: as Linux TCP (icmpv6_err_convert()), but for an
 * unrecognized next header, ICMPv6's protocol unreachable: the host has
 * no xtcp, so ECONNREFUSED as for ICMP's (Documentation/xtcp.rst "Path
 * MTU and ICMP").
 */
static bool xtcp_v6_icmp_errno(u8 type, u8 code, int *err)
{
	if (type == ICMPV6_PARAMPROB && code == ICMPV6_UNK_NEXTHDR) {
		*err = ECONNREFUSED;
		return true;
	}
	return icmpv6_err_convert(type, code, err);
}

/*
 * struct inet6_protocol .err_handler: an ICMPv6 error quoting one of our
 * segments (RFC 4443 section 2.4, RFC 5927), as Linux's tcp_v6_err().
 * skb->data is the quoted IPv6 header, our header at @offset (at least 8
 * bytes of it: ports and sequence number); @info is the MTU of Packet Too
 * Big.
 *
 * Validated as xtcp_v4_err(): the quoted sequence number must be in
 * flight (snd_una to snd_nxt), else the error is dropped and counted
 * (OutOfWindowIcmps), and so is one from farther than IPV6_MINHOPCOUNT
 * allows (MinTTLDrop). Destination Unreachable, Time Exceeded and
 * Parameter Problem end SYN_SENT (and SYN_RCVD of a simultaneous open) at
 * once; on a synchronized connection they are soft errors (SO_ERROR), or
 * reported at once with IPV6_RECVERR. Packet Too Big with an MTU of at
 * least 1280 (RFC 8200 section 5) lowers the route's path MTU and the
 * send MSS (xtcp_v6_mtu_reduced()). One lookup, one socket per error.
 *
 * Context: softirq, RCU read lock held; no socket lock held.
 */
static int xtcp_v6_err(struct sk_buff *skb, struct inet6_skb_parm *opt,
		       u8 type, u8 code, int offset, __be32 info)
{
	const struct ipv6hdr *hdr = (const struct ipv6hdr *)skb->data;
	const struct tcphdr *th = (const struct tcphdr *)(skb->data + offset);
	struct net *net = dev_net_rcu(skb->dev);
	struct xtcp_sock *xs;
	struct xtcp_tuple t;
	struct sock *sk;
	bool fatal;
	u32 seq, mtu;
	int err;

	/* The quoted segment is one we sent: its source is the local end. */
	t.laddr = hdr->saddr;
	t.raddr = hdr->daddr;
	t.lport = th->source;
	t.rport = th->dest;
	seq = ntohl(th->seq);
	fatal = xtcp_v6_icmp_errno(type, code, &err);

	sk = xtcp_ehash_lookup(net, &t);
	if (!sk) {
		/* A half-open entry, or else TIME_WAIT or nothing: ignored. */
		xtcp_req_err(net, inet6_iif(skb), &t, seq, fatal);
		return 0;
	}
	xs = xtcp_sk(sk);

	bh_lock_sock(sk);
	if (sk->sk_state == TCP_CLOSE || sk->sk_state == TCP_LISTEN)
		goto out;
	if (unlikely(xtcp_v6_below_min_hops(net, sk, skb)))
		goto out;
	if (!between(seq, xs->snd_una, xs->snd_nxt)) {
		XTCP_INC_STATS(net, XTCP_MIB_OUTOFWINDOWICMPS);
		goto out;
	}

	if (type == NDISC_REDIRECT) {
		if (!sock_owned_by_user(sk))
			xtcp_v6_redirect(skb, sk);
		goto out;
	}
	if (type == ICMPV6_PKT_TOOBIG) {
		mtu = ntohl(info);
		if (!ip6_sk_accept_pmtu(sk) || mtu < IPV6_MIN_MTU)
			goto out;
		WRITE_ONCE(xs->mtu_info, mtu);
		if (!sock_owned_by_user(sk))
			xtcp_v6_mtu_reduced(sk);
		else
			xtcp_timers_defer(sk, XTCP_EV_MTU_REDUCED);
		goto out;
	}

	if (sk->sk_state == TCP_SYN_SENT ||
	    (sk->sk_state == TCP_SYN_RECV && !xs->listener)) {
		xtcp_ipv6_icmp_error(sk, skb, err, th->dest, ntohl(info),
				     (u8 *)th);
		if (!sock_owned_by_user(sk)) {
			WRITE_ONCE(sk->sk_err, err);
			xtcp_done(sk);
			sk_error_report(sk);
		} else {
			WRITE_ONCE(sk->sk_err_soft, err);
		}
		goto out;
	}

	/* Synchronized: a soft error (RFC 1122 4.2.3.9), as over IPv4. */
	if (!sock_owned_by_user(sk) && xtcp_inet6_recverr(sk)) {
		WRITE_ONCE(sk->sk_err, err);
		sk_error_report(sk);
	} else {
		WRITE_ONCE(sk->sk_err_soft, err);
	}
out:
	bh_unlock_sock(sk);
	sock_put(sk);
	return 0;
}

static const struct inet6_protocol xtcp_v6_protocol = {
	.handler = xtcp_v6_rcv,
	.err_handler = xtcp_v6_err,
	.flags = INET6_PROTO_NOPOLICY | INET6_PROTO_FINAL,
};

static int xtcp_v6_init_sock(struct sock *sk)
{
	int err = xtcp_prot.init(sk);

	xtcp_sk(sk)->af_ops = &xtcp_v6_af_ops;
	return err;
}

static struct proto xtcpv6_prot;

static struct inet_protosw xtcp_v6_protosw = {
	.type = SOCK_STREAM,
	.prot = &xtcpv6_prot,
	.ops = &xtcp6_stream_ops,
};

static bool xtcp_v6_registered;

/**
 * xtcp_v6_init() - register xtcp with IPv6
 *
 * The proto operations are IPv4's with IPv6's addresses: struct proto
 * copied from xtcp_prot with the calls that know the family replaced, as
 * tcpv6_prot differs from tcp_prot; the socket operations are
 * xtcp6_stream_ops (proto.c). Nothing is registered, and xtcp serves IPv4 alone, when
 * IPv6 is disabled (ipv6.disable=1).
 *
 * Context: module init, process context, after xtcp_v4_init().
 * Return: 0, -EBUSY when the protocol number is taken, or another errno.
 */
int xtcp_v6_init(void)
{
	int err;

	if (!ipv6_mod_enabled()) {
		pr_info("IPv6 is disabled: xtcp serves IPv4 only\n");
		return 0;
	}

	xtcpv6_prot = xtcp_prot;
	strscpy(xtcpv6_prot.name, "XTCPv6", sizeof(xtcpv6_prot.name));
	xtcpv6_prot.init = xtcp_v6_init_sock;
	xtcpv6_prot.pre_connect = xtcp_v6_pre_connect;
	xtcpv6_prot.connect = xtcp_v6_connect;
	xtcpv6_prot.obj_size = sizeof(struct xtcp6_sock);
#ifdef XTCP_HAVE_IPV6_PINFO_OFFSET
	xtcpv6_prot.ipv6_pinfo_offset = offsetof(struct xtcp6_sock, inet6);
#else
	/* 6.1 finds the IPv6 state at the end of the object. */
	BUILD_BUG_ON(offsetof(struct xtcp6_sock, inet6) +
		     sizeof(struct ipv6_pinfo) != sizeof(struct xtcp6_sock));
#endif

	err = proto_register(&xtcpv6_prot, 1);
	if (err)
		return err;
	if (inet6_add_protocol(&xtcp_v6_protocol, xtcp_protocol) < 0) {
		pr_err("IPv6 next header %d is already registered by another module\n",
		       xtcp_protocol);
		err = -EBUSY;
		goto err_proto;
	}
	xtcp_v6_protosw.protocol = xtcp_protocol;
	err = inet6_register_protosw(&xtcp_v6_protosw);
	if (err)
		goto err_protocol;
	xtcp_v6_registered = true;
	return 0;

err_protocol:
	inet6_del_protocol(&xtcp_v6_protocol, xtcp_protocol);
err_proto:
	proto_unregister(&xtcpv6_prot);
	return err;
}

/**
 * xtcp_v6_exit() - undo xtcp_v6_init()
 *
 * Context: module exit, process context; no xtcp socket exists.
 */
void xtcp_v6_exit(void)
{
	if (!xtcp_v6_registered)
		return;
	inet6_unregister_protosw(&xtcp_v6_protosw);
	inet6_del_protocol(&xtcp_v6_protocol, xtcp_protocol);
	proto_unregister(&xtcpv6_prot);
	xtcp_v6_registered = false;
}
