// SPDX-License-Identifier: GPL-2.0
/*
 * xtcpize.bpf.c - make socket() create xtcp sockets for one cgroup.
 *
 * Runs on update_socket_protocol(), which __sys_socket() calls to let BPF
 * choose the protocol of a new socket. socket(AF_INET or AF_INET6,
 * SOCK_STREAM, 0 or IPPROTO_TCP), with or without SOCK_NONBLOCK and SOCK_CLOEXEC, made by a
 * task in the target cgroup or below it, gets the xtcp protocol number
 * instead; every other call keeps its protocol. xtcpize-bpf.c loads it.
 *
 * An fmod_ret program that returns non-zero ends the chain: the programs
 * attached after it and the kernel's own update_socket_protocol() (which
 * returns @protocol) do not run. So "leave it" is 0, never @protocol:
 * returning IPPROTO_TCP for a socket of another cgroup would keep a second
 * xtcpize (or any other user of the hook) from seeing that socket.
 *
 * vmlinux.h is generated from the build host's BTF and used for types
 * only; the attach point is found in the running kernel's BTF at load time.
 */

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

/* Macros, not in BTF. */
#define AF_INET		2
#define AF_INET6	10
#define SOCK_TYPE_MASK	0xf

/*
 * Deepest cgroup level looked at; the target cgroup sits at level 1
 * normally (directly under the root of the hierarchy).
 */
#define XTCPIZE_MAX_LEVEL	32

char _license[] SEC("license") = "GPL";

/*
 * The protocol number, set by the loader before loading; const volatile
 * puts it in .rodata, which the verifier treats as a constant, without
 * clang folding the default into the code.
 */
const volatile int xtcp_proto = 253;
/*
 * The target cgroup's id, set by the loader after loading (so that a
 * missing capability is found before a cgroup is made) and before
 * attaching; 0 matches nothing.
 */
__u64 target_cgroup_id;

/* Is the current task in the target cgroup or in one of its descendants? */
static __always_inline bool xtcpize_in_target(void)
{
	__u64 id;
	int level;

	if (bpf_get_current_cgroup_id() == target_cgroup_id)
		return true;
	for (level = 1; level < XTCPIZE_MAX_LEVEL; level++) {
		id = bpf_get_current_ancestor_cgroup_id(level);
		if (!id)
			return false;
		if (id == target_cgroup_id)
			return true;
	}
	return false;
}

SEC("fmod_ret/update_socket_protocol")
int BPF_PROG(xtcpize_socket, int family, int type, int protocol)
{
	if ((family != AF_INET && family != AF_INET6) ||
	    (type & SOCK_TYPE_MASK) != SOCK_STREAM ||
	    (protocol != 0 && protocol != IPPROTO_TCP))
		return 0;
	if (!target_cgroup_id || !xtcpize_in_target())
		return 0;
	return xtcp_proto;
}
