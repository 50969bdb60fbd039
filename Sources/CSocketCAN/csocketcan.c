#define _GNU_SOURCE
#include "csocketcan.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <linux/can/netlink.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#ifndef SO_RXQ_OVFL
#define SO_RXQ_OVFL 40
#endif

#define CONTROL_BYTES 128

struct vg_rx_batch {
    int count;
    struct mmsghdr *messages;
    struct iovec *iovecs;
    struct sockaddr_can *addresses;
    char *control;
    vg_rx_slot *slots;
};

vg_rx_batch *vg_rx_batch_create(int count) {
    vg_rx_batch *b = calloc(1, sizeof *b);
    if (!b) return NULL;
    b->count = count;
    b->messages = calloc(count, sizeof *b->messages);
    b->iovecs = calloc(count, sizeof *b->iovecs);
    b->addresses = calloc(count, sizeof *b->addresses);
    b->control = calloc(count, CONTROL_BYTES);
    b->slots = calloc(count, sizeof *b->slots);
    if (!b->messages || !b->iovecs || !b->addresses || !b->control || !b->slots) {
        vg_rx_batch_destroy(b);
        return NULL;
    }
    return b;
}

void vg_rx_batch_destroy(vg_rx_batch *b) {
    if (!b) return;
    free(b->messages); free(b->iovecs); free(b->addresses); free(b->control); free(b->slots);
    free(b);
}

vg_rx_slot *vg_rx_batch_slots(vg_rx_batch *b) { return b->slots; }

int vg_rx_batch_receive(int fd, vg_rx_batch *b, int timeout_ms) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int ready;
    do { ready = poll(&p, 1, timeout_ms); } while (ready < 0 && errno == EINTR);
    if (ready < 0) return -errno;
    if (ready == 0) return 0;
    if (p.revents & (POLLERR | POLLNVAL)) {
        int err = 0; socklen_t len = sizeof err;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err) return -err;
        if (p.revents & POLLNVAL) return -EBADF;
    }
    for (int i = 0; i < b->count; i++) {
        b->iovecs[i].iov_base = &b->slots[i].frame;
        b->iovecs[i].iov_len = sizeof(struct canfd_frame);
        struct msghdr *h = &b->messages[i].msg_hdr;
        h->msg_name = &b->addresses[i];
        h->msg_namelen = sizeof(struct sockaddr_can);
        h->msg_iov = &b->iovecs[i];
        h->msg_iovlen = 1;
        h->msg_control = b->control + (size_t)i * CONTROL_BYTES;
        h->msg_controllen = CONTROL_BYTES;
        h->msg_flags = 0;
    }
    int n;
    do { n = recvmmsg(fd, b->messages, b->count, MSG_DONTWAIT, NULL); } while (n < 0 && errno == EINTR);
    if (n < 0) return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -errno;
    for (int i = 0; i < n; i++) {
        vg_rx_slot *s = &b->slots[i];
        struct msghdr *h = &b->messages[i].msg_hdr;
        s->bytes = (int32_t)b->messages[i].msg_len;
        s->ifindex = b->addresses[i].can_ifindex;
        s->ts_sec = 0; s->ts_nsec = -1; s->has_dropped = 0;
        s->flags = (uint32_t)h->msg_flags;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c)) {
            if (c->cmsg_level != SOL_SOCKET) continue;
            if (c->cmsg_type == SO_TIMESTAMPNS) {
                struct timespec ts;
                memcpy(&ts, CMSG_DATA(c), sizeof ts);
                s->ts_sec = ts.tv_sec; s->ts_nsec = ts.tv_nsec;
            } else if (c->cmsg_type == SO_RXQ_OVFL) {
                uint32_t d;
                memcpy(&d, CMSG_DATA(c), sizeof d);
                s->dropped = d; s->has_dropped = 1;
            }
        }
    }
    return n;
}

int vg_set_filters(int fd, const struct can_filter *filters, int count) {
    if (setsockopt(fd, SOL_CAN_RAW, CAN_RAW_FILTER, count ? filters : NULL,
                   (socklen_t)(count * sizeof(struct can_filter))) < 0) return -errno;
    return 0;
}

int vg_set_int_option(int fd, int level, int name, int value) {
    if (setsockopt(fd, level, name, &value, sizeof value) < 0) return -errno;
    return 0;
}

int vg_set_error_mask(int fd, uint32_t mask) {
    can_err_mask_t m = mask;
    if (setsockopt(fd, SOL_CAN_RAW, CAN_RAW_ERR_FILTER, &m, sizeof m) < 0) return -errno;
    return 0;
}

int vg_open_raw(int ifindex, int fd_frames) {
    int fd = socket(PF_CAN, SOCK_RAW | SOCK_CLOEXEC, CAN_RAW);
    if (fd < 0) return -errno;
    if (fd_frames) {
        int on = 1;
        if (setsockopt(fd, SOL_CAN_RAW, CAN_RAW_FD_FRAMES, &on, sizeof on) < 0) { int e = errno; close(fd); return -e; }
    }
    struct sockaddr_can addr = {.can_family = AF_CAN, .can_ifindex = ifindex};
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0) { int e = errno; close(fd); return -e; }
    return fd;
}

int vg_send(int fd, const struct canfd_frame *frame, int bytes) {
    ssize_t n;
    do { n = write(fd, frame, (size_t)bytes); } while (n < 0 && errno == EINTR);
    if (n < 0) return -errno;
    return n == bytes ? 0 : -EIO;
}

int vg_interface_flags(const char *name) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) fd = socket(PF_CAN, SOCK_RAW | SOCK_CLOEXEC, CAN_RAW);
    if (fd < 0) return -errno;
    struct ifreq r;
    memset(&r, 0, sizeof r);
    strncpy(r.ifr_name, name, IFNAMSIZ - 1);
    int rc = ioctl(fd, SIOCGIFFLAGS, &r);
    int e = errno;
    close(fd);
    if (rc < 0) return -e;
    return r.ifr_flags & 0xFFFF;
}

int vg_poll_many(const int *fds, short *revents, int count, int timeout_ms) {
    struct pollfd p[64];
    if (count > 64) count = 64;
    for (int i = 0; i < count; i++) { p[i].fd = fds[i]; p[i].events = POLLIN; p[i].revents = 0; }
    int n;
    do { n = poll(p, (nfds_t)count, timeout_ms); } while (n < 0 && errno == EINTR);
    if (n < 0) return -errno;
    for (int i = 0; i < count; i++) revents[i] = p[i].revents;
    return n;
}

static struct rtattr *vg_attr(struct nlmsghdr *n, size_t room, int type, const void *data, int len) {
    size_t at = NLMSG_ALIGN(n->nlmsg_len);
    if (at + RTA_LENGTH(len) > room) return NULL;
    struct rtattr *a = (struct rtattr *)((char *)n + at);
    a->rta_type = (unsigned short)type;
    a->rta_len = (unsigned short)RTA_LENGTH(len);
    if (len) memcpy(RTA_DATA(a), data, (size_t)len);
    n->nlmsg_len = (uint32_t)(at + RTA_ALIGN(a->rta_len));
    return a;
}

static void vg_end_nest(struct nlmsghdr *n, struct rtattr *nest) {
    nest->rta_len = (unsigned short)((char *)n + n->nlmsg_len - (char *)nest);
}

int vg_set_data_bitrate(const char *name, uint32_t bitrate) {
    unsigned index = if_nametoindex(name);
    if (!index) return -ENODEV;
    struct { struct nlmsghdr n; struct ifinfomsg i; char buf[512]; } req;
    memset(&req, 0, sizeof req);
    req.n.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
    req.n.nlmsg_type = RTM_NEWLINK;
    req.n.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
    req.i.ifi_family = AF_UNSPEC;
    req.i.ifi_index = (int)index;
    struct rtattr *info = vg_attr(&req.n, sizeof req, IFLA_LINKINFO, NULL, 0);
    vg_attr(&req.n, sizeof req, IFLA_INFO_KIND, "can", 3);
    struct rtattr *data = vg_attr(&req.n, sizeof req, IFLA_INFO_DATA, NULL, 0);
    struct can_bittiming bt;
    memset(&bt, 0, sizeof bt);
    bt.bitrate = bitrate;
    vg_attr(&req.n, sizeof req, IFLA_CAN_DATA_BITTIMING, &bt, sizeof bt);
    vg_end_nest(&req.n, data);
    vg_end_nest(&req.n, info);

    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0) return -errno;
    struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
    if (sendto(fd, &req, req.n.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0) { int e = errno; close(fd); return -e; }
    char reply[1024];
    ssize_t got = recv(fd, reply, sizeof reply, 0);
    int e = errno;
    close(fd);
    if (got < 0) return -e;
    struct nlmsghdr *h = (struct nlmsghdr *)reply;
    if (!NLMSG_OK(h, (unsigned)got) || h->nlmsg_type != NLMSG_ERROR) return -EPROTO;
    struct nlmsgerr *err = NLMSG_DATA(h);
    return err->error;  /* 0 or -errno */
}

int vg_eventfd(void) {
    int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

int vg_wait_readable(int fd, int64_t nanoseconds) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    struct timespec t = {.tv_sec = nanoseconds / 1000000000, .tv_nsec = nanoseconds % 1000000000};
    int rc = ppoll(&p, 1, &t, NULL);
    return rc < 0 ? -errno : rc;
}
