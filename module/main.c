// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: an experimental TCP variant under its own IP protocol number.
 *
 * Module init and exit only: a ladder whose labels name what they undo.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/moduleparam.h>
#include <net/net_namespace.h>

#include "xtcp.h"

int xtcp_protocol = IPPROTO_XTCP;
module_param_named(proto, xtcp_protocol, int, 0444);
MODULE_PARM_DESC(proto, "IP protocol number: 253 (default) or 254 (RFC 3692)");

/*
 * The few symbols xtcp_diag.ko needs (module/diag.c), in the XTCP symbol
 * namespace; nothing else uses them from outside xtcp.ko.
 */

/**
 * xtcp_proto_number() - the IP protocol number xtcp serves
 *
 * The "proto" module parameter, fixed once xtcp.ko is loaded: 253 or 254.
 *
 * Context: any.
 * Return: the protocol number.
 */
int xtcp_proto_number(void)
{
	return xtcp_protocol;
}
EXPORT_SYMBOL_NS_GPL(xtcp_proto_number, XTCP);

/**
 * xtcp_net_of() - xtcp's tables and counters of a network namespace
 * @net: the namespace
 *
 * Context: any; @net must be alive (xtcp's pernet state lives as long).
 * Return: the namespace's struct xtcp_net.
 */
struct xtcp_net *xtcp_net_of(const struct net *net)
{
	return xtcp_pernet(net);
}
EXPORT_SYMBOL_NS_GPL(xtcp_net_of, XTCP);

static int __net_init xtcp_net_init(struct net *net)
{
	struct xtcp_net *xn = xtcp_pernet(net);
	int err;

	xtcp_knobs_init(&xn->knobs);

	err = xtcp_mib_net_init(net);
	if (err)
		return err;

	err = xtcp_hash_net_init(xn);
	if (err)
		goto err_free_mib;

	err = xtcp_orphans_net_init(xn);
	if (err)
		goto err_hash;

	err = xtcp_tw_net_init(xn);
	if (err)
		goto err_orphans;

	err = xtcp_sysctl_net_init(net);
	if (err)
		goto err_tw;

	err = xtcp_proc_net_init(net);
	if (err)
		goto err_sysctl;

	err = xtcp_v4_edemux_net_init(net);
	if (err)
		goto err_proc;

	err = xtcp_v6_edemux_net_init(net);
	if (err)
		goto err_edemux4;

	return 0;

err_edemux4:
	xtcp_v4_edemux_net_exit(net);
err_proc:
	xtcp_proc_net_exit(net);
err_sysctl:
	xtcp_sysctl_net_exit(net);
err_tw:
	xtcp_tw_net_exit(xn);
err_orphans:
	xtcp_orphans_net_exit(xn);
err_hash:
	xtcp_hash_net_exit(xn);
err_free_mib:
	xtcp_mib_net_exit(net);
	return err;
}

static void __net_exit xtcp_net_exit(struct net *net)
{
	struct xtcp_net *xn = xtcp_pernet(net);

	xtcp_v6_edemux_net_exit(net);
	xtcp_v4_edemux_net_exit(net);
	xtcp_proc_net_exit(net);
	xtcp_sysctl_net_exit(net);
	xtcp_tw_net_exit(xn);
	xtcp_orphans_net_exit(xn);
	xtcp_hash_net_exit(xn);
	xtcp_mib_net_exit(net);
}

unsigned int xtcp_net_id __read_mostly;

static struct pernet_operations xtcp_net_ops = {
	.init = xtcp_net_init,
	.exit = xtcp_net_exit,
	.id = &xtcp_net_id,
	.size = sizeof(struct xtcp_net),
};

static int __init xtcp_init(void)
{
	int err;

	/* Only the two RFC 3692 experimental numbers: never TCP's or any
	 * other assigned protocol, even if its handler is not loaded now.
	 */
	if (xtcp_protocol != IPPROTO_XTCP && xtcp_protocol != IPPROTO_XTCP_ALT) {
		pr_err("proto=%d refused: only %d or %d (RFC 3692 experimental) are allowed\n",
		       xtcp_protocol, IPPROTO_XTCP, IPPROTO_XTCP_ALT);
		return -EINVAL;
	}

	err = xtcp_mem_init();
	if (err)
		return err;

	err = xtcp_tw_init();
	if (err)
		goto err_mem;

	err = xtcp_req_init();
	if (err)
		goto err_tw;

	err = register_pernet_subsys(&xtcp_net_ops);
	if (err)
		goto err_req;

	err = xtcp_v4_init();
	if (err)
		goto err_pernet;

	err = xtcp_v6_init();
	if (err)
		goto err_v4;

	pr_info("IP protocol %d registered\n", xtcp_protocol);
	return 0;

err_v4:
	xtcp_v4_exit();
err_pernet:
	unregister_pernet_subsys(&xtcp_net_ops);
err_req:
	xtcp_req_exit();
err_tw:
	xtcp_tw_exit();
err_mem:
	xtcp_mem_exit();
	return err;
}

static void __exit xtcp_exit(void)
{
	/*
	 * IPv4 first: from the moment the module is going, socket() through
	 * a protosw still registered fails with ENOMEM (sk_alloc() cannot
	 * take a module reference) where EPROTONOSUPPORT is due, and each
	 * family's exit waits for grace periods. AF_INET's protosw goes at
	 * once, as before there was IPv6.
	 */
	xtcp_v4_exit();
	xtcp_v6_exit();
	unregister_pernet_subsys(&xtcp_net_ops);
	xtcp_req_exit();
	xtcp_tw_exit();
	xtcp_mem_exit();
}

module_init(xtcp_init);
module_exit(xtcp_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("The xtcp developers");
MODULE_VERSION(XTCP_VERSION);
MODULE_DESCRIPTION("xtcp: experimental TCP variant with tunable connection lifetime");
/* socket(AF_INET or AF_INET6, SOCK_STREAM, 253) loads the module on demand. */
MODULE_ALIAS("net-pf-" __stringify(PF_INET) "-proto-253-type-1");
MODULE_ALIAS("net-pf-" __stringify(PF_INET6) "-proto-253-type-1");
/*
 * Protocol 254 loads the module too, which still registers 253 unless
 * modprobe.d says "options xtcp proto=254" (Documentation/xtcp.rst).
 */
MODULE_ALIAS("net-pf-" __stringify(PF_INET) "-proto-254-type-1");
MODULE_ALIAS("net-pf-" __stringify(PF_INET6) "-proto-254-type-1");
