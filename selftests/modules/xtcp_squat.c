// SPDX-License-Identifier: GPL-2.0
/*
 * Test helper: occupies an IP protocol number, so that the selftests can
 * check that xtcp refuses to load over a number another module owns.
 */

#include <linux/module.h>
#include <linux/skbuff.h>
#include <net/protocol.h>

static int proto = 253;
module_param(proto, int, 0444);

static int squat_rcv(struct sk_buff *skb)
{
	kfree_skb(skb);
	return 0;
}

static const struct net_protocol squat_protocol = {
	.handler = squat_rcv,
	.no_policy = 1,
};

static int __init squat_init(void)
{
	if (proto < 1 || proto > 255)
		return -EINVAL;
	return inet_add_protocol(&squat_protocol, proto) ? -EBUSY : 0;
}

static void __exit squat_exit(void)
{
	inet_del_protocol(&squat_protocol, proto);
}

module_init(squat_init);
module_exit(squat_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("xtcp selftest helper: hold an IP protocol number");
