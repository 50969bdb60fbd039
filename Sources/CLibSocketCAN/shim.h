#include <libsocketcan.h>
#include <linux/can/netlink.h>
