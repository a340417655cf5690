// SPDX-License-Identifier: GPL-2.0
/*
 * Memory accounting for all xtcp sockets, as Linux's tcp_mem: the pages
 * that queued segments hold, in both directions, are counted in one
 * protocol-wide total against net.xtcp.mem (low, pressure, high; pages).
 * Above pressure, sockets get less than their buffer sizes promise; at
 * high, nothing more is given: a sender waits, and received segments are
 * dropped for the peer to send again (sk_mem_schedule() and friends do the
 * work once struct proto points here, as for SCTP). A socket made in a
 * non-root memory cgroup is also charged to that cgroup, by the same
 * calls; a passive connection is charged to its listener's cgroup from
 * the moment it is made (xtcp_mem_inherit_memcg()).
 *
 * The knob is host-wide, as tcp_mem: it exists in the initial network
 * namespace only.
 */

#include <linux/memcontrol.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/percpu_counter.h>
#include <linux/sysctl.h>
#include <net/inet_common.h>
#include <net/net_namespace.h>
#include <net/sock.h>

#include "xtcp.h"

atomic_long_t xtcp_memory_allocated;
DEFINE_PER_CPU(int, xtcp_memory_per_cpu_fw_alloc);
struct percpu_counter xtcp_sockets_allocated;
unsigned long xtcp_memory_pressure;
long xtcp_sysctl_mem[3];

/*
 * Under pressure a socket is still granted its first page of
 * receive and send memory (only [0] is read, by sk_get_rmem0() and
 * sk_get_wmem0()); the buffer sizes proper are the per-namespace knobs.
 */
int xtcp_sysctl_rmem[3] = { PAGE_SIZE, 0, 0 };
int xtcp_sysctl_wmem[3] = { PAGE_SIZE, 0, 0 };

static struct ctl_table_header *xtcp_mem_sysctl_hdr;
static DEFINE_MUTEX(xtcp_mem_sysctl_lock);
static unsigned long xtcp_mem_min = 1;
static unsigned long xtcp_mem_max = LONG_MAX >> PAGE_SHIFT;

/*
 * net.xtcp.mem: three page counts, each at least 1, in order (low <=
 * pressure <= high); any other write fails with EINVAL and changes
 * nothing. A write of fewer than three values keeps the others.
 */
static int xtcp_mem_sysctl(XTCP_CTL_CONST struct ctl_table *table,
			   int write, void *buffer, size_t *lenp, loff_t *ppos)
{
	struct ctl_table tmp = *table;
	unsigned long val[3];
	int err, i;

	if (!write)
		return proc_doulongvec_minmax(table, write, buffer, lenp, ppos);

	mutex_lock(&xtcp_mem_sysctl_lock);
	for (i = 0; i < 3; i++)
		val[i] = READ_ONCE(xtcp_sysctl_mem[i]);
	tmp.data = val;
	err = proc_doulongvec_minmax(&tmp, write, buffer, lenp, ppos);
	if (!err && (val[0] > val[1] || val[1] > val[2]))
		err = -EINVAL;
	if (!err)
		for (i = 0; i < 3; i++)
			WRITE_ONCE(xtcp_sysctl_mem[i], val[i]);
	mutex_unlock(&xtcp_mem_sysctl_lock);
	return err;
}

static struct ctl_table xtcp_mem_table[] = {
	{
		.procname = "mem",
		.data = &xtcp_sysctl_mem,
		.maxlen = sizeof(xtcp_sysctl_mem),
		.mode = 0644,
		.proc_handler = xtcp_mem_sysctl,
		.extra1 = &xtcp_mem_min,
		.extra2 = &xtcp_mem_max,
	},
	{ }	/* the end, where it is marked by an empty entry (compat.h) */
};

/**
 * xtcp_enter_memory_pressure() - struct proto .enter_memory_pressure
 * @sk: the socket that found the total above net.xtcp.mem[1]
 *
 * Context: any.
 */
void xtcp_enter_memory_pressure(struct sock *sk)
{
	WRITE_ONCE(xtcp_memory_pressure, 1);
}

/**
 * xtcp_leave_memory_pressure() - struct proto .leave_memory_pressure
 * @sk: the socket that found the total below net.xtcp.mem[0]
 *
 * Context: any.
 */
void xtcp_leave_memory_pressure(struct sock *sk)
{
	WRITE_ONCE(xtcp_memory_pressure, 0);
}

/**
 * xtcp_sock_destruct() - sk_destruct of every xtcp socket
 * @sk: the socket being freed
 *
 * Context: any, the last reference gone.
 */
void xtcp_sock_destruct(struct sock *sk)
{
	sk_sockets_allocated_dec(sk);
#if IS_ENABLED(CONFIG_IPV6)
	if (xtcp_sk_is_v6(sk)) {
		inet6_sock_destruct(sk);
		return;
	}
#endif
	inet_sock_destruct(sk);
}

/**
 * xtcp_mem_inherit_memcg() - charge a new connection to its listener's cgroup
 * @child: the connection, just cloned, nothing charged to it yet
 * @listener: the listener it was cloned from
 *
 * sk_clone_lock() leaves @child without a memory cgroup; TCP gives it the
 * accepting task's at accept() and charges what it holds by then, with
 * helpers modules cannot call. Here it takes the listener's cgroup (the
 * one the listening application runs in) before anything is charged, so
 * that every page it ever holds, before and after accept(), is that
 * cgroup's. The reference taken is dropped by sk_free() (as TCP's).
 *
 * Context: softirq, @child locked and not yet visible.
 */
void xtcp_mem_inherit_memcg(struct sock *child, const struct sock *listener)
{
#ifdef CONFIG_MEMCG
	struct mem_cgroup *memcg = mem_cgroup_from_sk(listener);

	if (!memcg)
		return;
	css_get(&memcg->css);
	child->sk_memcg = memcg;
#endif
}

/**
 * xtcp_memcg_over_max() - is the socket's memory cgroup over memory.max?
 * @sk: the socket
 *
 * Memory a segment needs on arrival is charged to the cgroup from
 * softirq, and the memory cgroup lets such charges through beyond
 * memory.max (they cannot wait for reclaim); TCP then relies on pressure
 * to slow the peer, so a reader that does not read can hold several
 * times its cgroup's limit. xtcp drops the segment instead (the peer
 * sends it again), so a cgroup's sockets stay within its memory.max and
 * that of each of its parents.
 *
 * Context: any.
 * Return: true if the socket's cgroup or one of its parents is above its
 * memory.max.
 */
bool xtcp_memcg_over_max(const struct sock *sk)
{
#ifdef CONFIG_MEMCG
	struct mem_cgroup *memcg = mem_cgroup_from_sk(sk);
	struct page_counter *c;

	if (!mem_cgroup_sockets_enabled || !memcg)
		return false;
	for (c = &memcg->memory; c; c = c->parent)
		if (page_counter_read(c) > READ_ONCE(c->max))
			return true;
#endif
	return false;
}

/**
 * xtcp_rmem_force() - make room for an skb whatever net.xtcp.mem says
 * @sk: the socket, its receive queue empty
 * @size: the truesize to charge next (skb_set_owner_r())
 *
 * The next in-order segment of an empty receive queue is always taken,
 * as Linux's tcp_data_queue() does, so that a connection moves (slowly)
 * even with the protocol over its hard limit. The protocol total counts
 * it. A socket in a memory cgroup cannot force that cgroup's charge from
 * a module: its forward allocation goes below zero instead, by at most
 * this one skb, and comes back when the skb is read; what the cgroup is
 * charged and uncharged stays balanced.
 *
 * Context: socket locked (softirq or backlog).
 */
void xtcp_rmem_force(struct sock *sk, int size)
{
	int delta = size - sk->sk_forward_alloc;
	int pages;

	if (delta <= 0 || mem_cgroup_sk_enabled(sk))
		return;
	pages = sk_mem_pages(delta);
	sk_forward_alloc_add(sk, pages << PAGE_SHIFT);
	xtcp_memory_allocated_add(sk, pages);
}

/**
 * xtcp_mem_init() - the accounting state and net.xtcp.mem
 *
 * The defaults are tcp_mem's: high at 1/8 of the memory the buffers may
 * use, low at 3/4 of pressure.
 *
 * Context: module init, before the protocol is registered.
 * Return: 0 or -ENOMEM.
 */
int xtcp_mem_init(void)
{
	unsigned long limit = max(nr_free_buffer_pages() / 16, 128UL);
	int err;

	xtcp_sysctl_mem[0] = limit / 4 * 3;
	xtcp_sysctl_mem[1] = limit;
	xtcp_sysctl_mem[2] = xtcp_sysctl_mem[0] * 2;

	err = percpu_counter_init(&xtcp_sockets_allocated, 0, GFP_KERNEL);
	if (err)
		return err;
	xtcp_mem_sysctl_hdr = register_net_sysctl_sz(&init_net, "net/xtcp",
						     xtcp_mem_table,
						     ARRAY_SIZE(xtcp_mem_table) - 1);
	if (!xtcp_mem_sysctl_hdr) {
		percpu_counter_destroy(&xtcp_sockets_allocated);
		return -ENOMEM;
	}
	return 0;
}

/**
 * xtcp_mem_exit() - undo xtcp_mem_init()
 *
 * Context: module exit, after the last socket is gone.
 */
void xtcp_mem_exit(void)
{
	unregister_net_sysctl_table(xtcp_mem_sysctl_hdr);
	percpu_counter_destroy(&xtcp_sockets_allocated);
}
