/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel interfaces that differ between the kernels xtcp builds for
 * (Documentation/xtcp.rst, "Supported kernels"), in one place: the rest
 * of the module is written against the newest interface, and this header
 * supplies it on older kernels.
 *
 * Each difference is detected from the kernel's own headers by a probe in
 * Kbuild (XTCP_HAVE_*), not from LINUX_VERSION_CODE: distribution kernels
 * carry backports that a version number does not tell.
 */
#ifndef _XTCP_COMPAT_H
#define _XTCP_COMPAT_H

#include <linux/bpf-cgroup.h>
#include <linux/memcontrol.h>
#include <linux/sysctl.h>
#include <linux/win_minmax.h>
#include <net/gro.h>
#include <net/inet_sock.h>
#include <net/ip.h>
#include <net/ipv6.h>
#include <net/net_namespace.h>
#include <net/sock.h>
#include <net/tcp_states.h>
#include <uapi/linux/tcp.h>

/*
 * struct proto .accept takes its flags and returns its error in one
 * argument on 6.12; on 6.1 they are separate arguments.
 * xtcp_accept() takes the new form and XTCP_PROTO_ACCEPT is what struct
 * proto points to.
 */
#ifdef XTCP_HAVE_PROTO_ACCEPT_ARG
#define XTCP_PROTO_ACCEPT xtcp_accept
#else
struct proto_accept_arg {
	int flags;
	int err;
	bool kern;
};

struct sock *xtcp_accept(struct sock *sk, struct proto_accept_arg *arg);

static inline struct sock *xtcp_accept_compat(struct sock *sk, int flags,
					      int *err, bool kern)
{
	struct proto_accept_arg arg = { .flags = flags, .kern = kern };
	struct sock *child = xtcp_accept(sk, &arg);

	*err = arg.err;
	return child;
}

#define XTCP_PROTO_ACCEPT xtcp_accept_compat
#endif

/*
 * struct proto .ioctl fills a kernel int on 6.12; on 6.1 it writes to
 * the user's pointer itself. XTCP_PROTO_IOCTL(fn) is what struct proto
 * points to for an ioctl handler of the new form, and
 * XTCP_DEFINE_IOCTL_COMPAT(fn); defines what it needs.
 */
#ifdef XTCP_HAVE_PROTO_IOCTL_KARG
#define XTCP_PROTO_IOCTL(fn) fn
#define XTCP_DEFINE_IOCTL_COMPAT(fn) \
	static_assert(__same_type(&(fn), int (*)(struct sock *, int, int *)))
#else
#define XTCP_PROTO_IOCTL(fn) fn##_compat
#define XTCP_DEFINE_IOCTL_COMPAT(fn)					\
static int fn##_compat(struct sock *sk, int cmd, unsigned long arg)	\
{									\
	int karg, err;							\
									\
	err = fn(sk, cmd, &karg);					\
	if (err)							\
		return err;						\
	return put_user(karg, (int __user *)arg);			\
}
#endif

/* The cgroup connect hook takes the address length on 6.12, not on 6.1. */
static inline int xtcp_bpf_cgroup_inet4_connect(struct sock *sk,
						struct sockaddr *uaddr,
						int *addr_len)
{
#ifdef XTCP_HAVE_BPF_CONNECT_ADDRLEN
	return BPF_CGROUP_RUN_PROG_INET4_CONNECT(sk, uaddr, addr_len);
#else
	return BPF_CGROUP_RUN_PROG_INET4_CONNECT(sk, uaddr);
#endif
}

/* The same for the IPv6 connect hook. */
static inline int xtcp_bpf_cgroup_inet6_connect(struct sock *sk,
						struct sockaddr *uaddr,
						int *addr_len)
{
#ifdef XTCP_HAVE_BPF_CONNECT_ADDRLEN
	return BPF_CGROUP_RUN_PROG_INET6_CONNECT(sk, uaddr, addr_len);
#else
	return BPF_CGROUP_RUN_PROG_INET6_CONNECT(sk, uaddr);
#endif
}

/*
 * struct inet_diag_handler names its module on 6.12, which inet_diag
 * holds while it calls the handler; on 6.1 inet_diag calls the handler
 * under its table mutex, which unregistering takes.
 */
#ifdef XTCP_HAVE_DIAG_OWNER
#define XTCP_DIAG_OWNER .owner = THIS_MODULE,
#else
#define XTCP_DIAG_OWNER
#endif

/* Drop reason of a segment a closed socket's queues held (not on 6.1). */
#ifndef XTCP_HAVE_DROP_SOCKET_CLOSE
#define SKB_DROP_REASON_SOCKET_CLOSE SKB_DROP_REASON_NOT_SPECIFIED
#endif

/* Drop reason of a segment below the socket's minimum hop limit (not 6.1). */
#ifndef XTCP_HAVE_DROP_TCP_MINTTL
#define SKB_DROP_REASON_TCP_MINTTL SKB_DROP_REASON_NOT_SPECIFIED
#endif

/*
 * TCP_BOUND_INACTIVE, the state inet_diag reports bound sockets in (not
 * on 6.1), has the number after TCP_NEW_SYN_RECV. XTCP_NR_STATES
 * sizes a table indexed by every state.
 */
#ifndef XTCP_HAVE_TCP_BOUND_INACTIVE
#define TCP_BOUND_INACTIVE TCP_MAX_STATES
#endif
#define XTCP_NR_STATES (TCP_BOUND_INACTIVE + 1)

/* struct tcp_info has tcpi_rcv_wnd on 6.12, not on 6.1. */
#ifdef XTCP_HAVE_TCPI_RCV_WND
#define xtcp_tcpi_set_rcv_wnd(info, wnd) ((info)->tcpi_rcv_wnd = (wnd))
#else
#define xtcp_tcpi_set_rcv_wnd(info, wnd) ((void)(info), (void)(wnd))
#endif

/*
 * sk_userlocks is a byte of its own, read locklessly, on 6.12; on 6.1 a
 * bit-field, which READ_ONCE() cannot take.
 */
#ifdef XTCP_HAVE_SK_USERLOCKS_BITFIELD
#define xtcp_sk_userlocks(sk) ((sk)->sk_userlocks)
#else
#define xtcp_sk_userlocks(sk) READ_ONCE((sk)->sk_userlocks)
#endif

/*
 * ctl_table handlers take a const table on 6.12; tables are registered
 * with their size on 6.12, and end with an empty entry on 6.1. xtcp's
 * tables always have that entry and give a size without it, so both forms
 * register the same knobs.
 */
#ifdef XTCP_HAVE_CONST_CTL_TABLE
#define XTCP_CTL_CONST const
#else
#define XTCP_CTL_CONST
#endif
#ifndef XTCP_HAVE_REGISTER_NET_SYSCTL_SZ
static inline struct ctl_table_header *
register_net_sysctl_sz(struct net *net, const char *path,
		       struct ctl_table *table, size_t size)
{
	return register_net_sysctl(net, path, table);
}
#endif

/*
 * Memory cgroup of a socket (Debian's 6.12 has these helpers in sock.h).
 */
#ifndef XTCP_HAVE_MEM_CGROUP_SK_ENABLED
static inline struct mem_cgroup *mem_cgroup_from_sk(const struct sock *sk)
{
#ifdef CONFIG_MEMCG
	return sk->sk_memcg;
#else
	return NULL;
#endif
}

static inline bool mem_cgroup_sk_enabled(const struct sock *sk)
{
	return mem_cgroup_sockets_enabled && mem_cgroup_from_sk(sk);
}
#endif

/*
 * Add @pages to the protocol's memory total. On 6.12 (net/proto_memory.h)
 * sk_memory_allocated_add() does it through a per-CPU reserve; 6.1's
 * inline of that name reads a symbol modules cannot link against, so
 * there the pages go straight to the total, which is xtcp's own counter.
 */
#ifdef XTCP_HAVE_PROTO_MEMORY_H
#include <net/proto_memory.h>
#define xtcp_memory_allocated_add(sk, pages) \
	sk_memory_allocated_add(sk, pages)
#else
#define xtcp_memory_allocated_add(sk, pages) \
	atomic_long_add(pages, (sk)->sk_prot->memory_allocated)
#endif

/*
 * The windowed minimum of the RTT (tcpi_min_rtt). 6.1 does not export
 * minmax_running_min(); there xtcp keeps, besides the minimum, the
 * smallest sample taken after it, which becomes the minimum when the
 * minimum leaves the window. That can report a value larger than the true
 * minimum of the window for up to one window; 6.12 uses Linux's own
 * estimator, as TCP does.
 */
#ifndef XTCP_HAVE_MINMAX_EXPORT
static inline u32 xtcp_minmax_running_min(struct minmax *m, u32 win, u32 t,
					  u32 meas)
{
	struct minmax_sample now = { .t = t, .v = meas };

	if (meas <= m->s[1].v || t - m->s[1].t > win)
		m->s[1] = now;
	if (meas <= m->s[0].v) {
		m->s[0] = now;
		m->s[1] = now;
	} else if (t - m->s[0].t > win) {
		m->s[0] = m->s[1];
		m->s[1] = now;
	}
	return m->s[0].v;
}

#define minmax_running_min xtcp_minmax_running_min
#endif

/* IP_RECVERR: a bit of inet_flags on 6.12, a bit-field on 6.1. */
static inline bool xtcp_inet_recverr(const struct sock *sk)
{
#ifdef XTCP_HAVE_INET_TEST_BIT
	return inet_test_bit(RECVERR, sk);
#else
	return inet_sk(sk)->recverr;
#endif
}

/*
 * Queue an ICMP error on the socket's error queue (IP_RECVERR). 6.1 does
 * not export ip_icmp_error(): there the error still reaches sk_err and
 * SO_ERROR, but no entry reaches the error queue.
 */
static inline void xtcp_ip_icmp_error(struct sock *sk, struct sk_buff *skb,
				      int err, __be16 port, u32 info,
				      u8 *payload)
{
#ifdef XTCP_HAVE_IP_ICMP_ERROR_EXPORT
	ip_icmp_error(sk, skb, err, port, info, payload);
#endif
}

/*
 * The same for IPv6 (IPV6_RECVERR): ipv6_icmp_error() is exported where
 * ip_icmp_error() is.
 */
static inline void xtcp_ipv6_icmp_error(struct sock *sk, struct sk_buff *skb,
					int err, __be16 port, u32 info,
					u8 *payload)
{
#ifdef XTCP_HAVE_IP_ICMP_ERROR_EXPORT
	ipv6_icmp_error(sk, skb, err, port, info, payload);
#endif
}

/* IPV6_RECVERR is a flag bit after 6.1. */
static inline bool xtcp_inet6_recverr(const struct sock *sk)
{
#ifdef XTCP_HAVE_INET_TEST_BIT
	return inet6_test_bit(RECVERR6, sk);
#else
	return inet6_sk(sk)->recverr;
#endif
}

/* IPv6 flow label flags: inet_flags bits after 6.1, bit-fields on 6.1. */
static inline bool xtcp_inet6_sndflow(const struct sock *sk)
{
#ifdef XTCP_HAVE_INET_TEST_BIT
	return inet6_test_bit(SNDFLOW, sk);
#else
	return inet6_sk(sk)->sndflow;
#endif
}

static inline bool xtcp_inet6_repflow(const struct sock *sk)
{
#ifdef XTCP_HAVE_INET_TEST_BIT
	return inet6_test_bit(REPFLOW, sk);
#else
	return inet6_sk(sk)->repflow;
#endif
}

static inline void xtcp_inet6_set_repflow(struct sock *sk, bool on)
{
#ifdef XTCP_HAVE_INET_TEST_BIT
	inet6_assign_bit(REPFLOW, sk, on);
#else
	inet6_sk(sk)->repflow = on;
#endif
}

/*
 * Whether an AF_INET6 socket sends automatic flow labels: its
 * IPV6_AUTOFLOWLABEL if set, else net.ipv6.auto_flowlabels, as
 * ip6_autoflowlabel(), which is not exported.
 */
static inline bool xtcp_ip6_autoflowlabel(struct net *net,
					  const struct sock *sk)
{
#ifdef XTCP_HAVE_INET_TEST_BIT
	if (!inet6_test_bit(AUTOFLOWLABEL_SET, sk))
		return ip6_default_np_autolabel(net);
	return inet6_test_bit(AUTOFLOWLABEL, sk);
#else
	const struct ipv6_pinfo *np = inet6_sk(sk);

	if (!np->autoflowlabel_set)
		return ip6_default_np_autolabel(net);
	return np->autoflowlabel;
#endif
}

/*
 * GRO. 6.12 leaves the network header's flush checks (TTL or hop limit,
 * TOS or traffic class, the IPv4 ID's progress) to the transport's
 * callback, gro_receive_network_flush(), and keeps the network header's
 * offset in the GRO control block; 6.1 checks TTL and TOS itself,
 * leaving NAPI_GRO_CB(p)->flush and the ID's progress in ->flush_id for
 * the transport, and sets the network header. 6.12 also caps GRO per
 * family (gro_ipv4_max_size).
 */
#ifdef XTCP_HAVE_GRO_NETWORK_OFFSETS
static inline int xtcp_gro_network_flush(const void *th, const void *th2,
					 struct sk_buff *p)
{
	return gro_receive_network_flush(th, th2, p);
}

static inline void *xtcp_gro_network_header(struct sk_buff *skb)
{
	return skb->data + NAPI_GRO_CB(skb)->network_offsets[0];
}

static inline unsigned int xtcp_gro_max_size(const struct net_device *dev,
					     const struct sk_buff *skb)
{
	return netif_get_gro_max_size(dev, skb);
}
#else
static inline int xtcp_gro_network_flush(const void *th, const void *th2,
					 struct sk_buff *p)
{
	/* The second segment decides whether the ID stays fixed. */
	if (NAPI_GRO_CB(p)->flush_id == 1 && NAPI_GRO_CB(p)->count == 1 &&
	    NAPI_GRO_CB(p)->is_atomic) {
		NAPI_GRO_CB(p)->is_atomic = false;
		return NAPI_GRO_CB(p)->flush;
	}
	return NAPI_GRO_CB(p)->flush | NAPI_GRO_CB(p)->flush_id;
}

static inline void *xtcp_gro_network_header(struct sk_buff *skb)
{
	return skb_network_header(skb);
}

static inline unsigned int xtcp_gro_max_size(const struct net_device *dev,
					     const struct sk_buff *skb)
{
	return READ_ONCE(dev->gro_max_size);
}
#endif

#endif /* _XTCP_COMPAT_H */
