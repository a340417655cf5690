/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xtcp tracepoints: usable from perf trace, bpftrace and trace-cmd as
 * xtcp:xtcp_set_state and friends. The state change event reports every
 * change of a socket, including the passive child's LISTEN -> SYN_RCVD
 * and the hand-over to a TIME_WAIT bucket.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM xtcp

#if !defined(_XTCP_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _XTCP_TRACE_H

#include <linux/tracepoint.h>
#include <net/sock.h>
#include <net/inet_sock.h>

#include "xtcp.h"

#define xtcp_state_name(state)					\
	__print_symbolic(state,					\
		{ TCP_ESTABLISHED, "ESTABLISHED" },		\
		{ TCP_SYN_SENT, "SYN_SENT" },			\
		{ TCP_SYN_RECV, "SYN_RCVD" },			\
		{ TCP_FIN_WAIT1, "FIN_WAIT_1" },		\
		{ TCP_FIN_WAIT2, "FIN_WAIT_2" },		\
		{ TCP_TIME_WAIT, "TIME_WAIT" },			\
		{ TCP_CLOSE, "CLOSED" },			\
		{ TCP_CLOSE_WAIT, "CLOSE_WAIT" },		\
		{ TCP_LAST_ACK, "LAST_ACK" },			\
		{ TCP_LISTEN, "LISTEN" },			\
		{ TCP_CLOSING, "CLOSING" })

#ifndef _XTCP_TRACE_HELPERS
#define _XTCP_TRACE_HELPERS
/* Addresses are kept as bytes, as the tcp tracepoints do. */
static inline void xtcp_tp_addrs(const struct sock *sk, u8 *saddr, u8 *daddr,
				 u16 *sport, u16 *dport)
{
	const struct inet_sock *inet = inet_sk(sk);

	memcpy(saddr, &inet->inet_saddr, 4);
	memcpy(daddr, &inet->inet_daddr, 4);
	*sport = ntohs(inet->inet_sport);
	*dport = ntohs(inet->inet_dport);
}
#endif

DECLARE_EVENT_CLASS(xtcp_sock_event,
		    TP_PROTO(const struct sock *sk),
		    TP_ARGS(sk),
		    TP_STRUCT__entry(__field(const void *, skaddr)
				     __array(__u8, saddr, 4)
				     __array(__u8, daddr, 4)
				     __field(__u16, sport)
				     __field(__u16, dport)
				     __field(int, state)),
		    TP_fast_assign(__entry->skaddr = sk;
				   xtcp_tp_addrs(sk, __entry->saddr,
						 __entry->daddr,
						 &__entry->sport,
						 &__entry->dport);
				   __entry->state = sk->sk_state;),
		    TP_printk("sk=%p %pI4:%u > %pI4:%u state=%s",
			      __entry->skaddr, __entry->saddr,
			      __entry->sport, __entry->daddr, __entry->dport,
			      xtcp_state_name(__entry->state))
);

DEFINE_EVENT(xtcp_sock_event, xtcp_send_reset,
	     TP_PROTO(const struct sock *sk),
	     TP_ARGS(sk)
);

DEFINE_EVENT(xtcp_sock_event, xtcp_receive_reset,
	     TP_PROTO(const struct sock *sk),
	     TP_ARGS(sk)
);

/*
 * The bytes of the connection so far come with every change, so that a
 * tool sees at the end of a connection what it carried (as bcc's tcplife
 * reads them from TCP's socket).
 */
TRACE_EVENT(xtcp_set_state,
	    TP_PROTO(const struct sock *sk, int oldstate, int newstate),
	    TP_ARGS(sk, oldstate, newstate),
	    TP_STRUCT__entry(__field(const void *, skaddr)
			     __array(__u8, saddr, 4)
			     __array(__u8, daddr, 4)
			     __field(__u16, sport)
			     __field(__u16, dport)
			     __field(int, oldstate)
			     __field(int, newstate)
			     __field(__u64, bytes_acked)
			     __field(__u64, bytes_received)),
	    TP_fast_assign(__entry->skaddr = sk;
			   xtcp_tp_addrs(sk, __entry->saddr, __entry->daddr,
					 &__entry->sport, &__entry->dport);
			   __entry->oldstate = oldstate;
			   __entry->newstate = newstate;
			   __entry->bytes_acked =
				xtcp_sk(sk)->stats.bytes_acked;
			   __entry->bytes_received =
				xtcp_sk(sk)->stats.bytes_received;),
	    TP_printk("sk=%p %pI4:%u > %pI4:%u %s -> %s acked=%llu received=%llu",
		      __entry->skaddr, __entry->saddr, __entry->sport,
		      __entry->daddr, __entry->dport,
		      xtcp_state_name(__entry->oldstate),
		      xtcp_state_name(__entry->newstate),
		      __entry->bytes_acked, __entry->bytes_received)
);

TRACE_EVENT(xtcp_retransmit,
	    TP_PROTO(const struct sock *sk, u32 seq),
	    TP_ARGS(sk, seq),
	    TP_STRUCT__entry(__field(const void *, skaddr)
			     __array(__u8, saddr, 4)
			     __array(__u8, daddr, 4)
			     __field(__u16, sport)
			     __field(__u16, dport)
			     __field(__u32, seq)
			     __field(int, state)),
	    TP_fast_assign(__entry->skaddr = sk;
			   xtcp_tp_addrs(sk, __entry->saddr, __entry->daddr,
					 &__entry->sport, &__entry->dport);
			   __entry->seq = seq;
			   __entry->state = sk->sk_state;),
	    TP_printk("sk=%p %pI4:%u > %pI4:%u seq=%u state=%s",
		      __entry->skaddr, __entry->saddr, __entry->sport,
		      __entry->daddr, __entry->dport, __entry->seq,
		      xtcp_state_name(__entry->state))
);

#endif /* _XTCP_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
