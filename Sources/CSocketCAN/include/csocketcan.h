// Thin C helpers for SocketCAN (the kernel structs, and a batched receive whose control
// messages, CMSG_* macros Swift cannot call, are unpacked here) and for the frame path's
// wake-ups (eventfd, ppoll: declared only under _GNU_SOURCE, which Swift's Glibc lacks).
#ifndef CSOCKETCAN_H
#define CSOCKETCAN_H

#include <stdint.h>
#include <sys/socket.h>
#include <linux/can.h>
#include <linux/can/raw.h>
#include <linux/can/error.h>
#include <net/if.h>

/// One received frame with its metadata, as unpacked from recvmmsg.
typedef struct {
    struct canfd_frame frame;  // classic frames use the first 16 bytes (struct can_frame layout)
    int32_t bytes;              // 16 (CAN_MTU) or 72 (CANFD_MTU), or <0
    int32_t ifindex;
    int64_t ts_sec;
    int64_t ts_nsec;            // -1 when the kernel gave no timestamp
    uint32_t dropped;           // SO_RXQ_OVFL counter, cumulative for the socket
    uint32_t has_dropped;
    uint32_t flags;             // msg_flags (MSG_DONTROUTE = our own frame echoed, MSG_CONFIRM = sent by us)
} vg_rx_slot;

typedef struct vg_rx_batch vg_rx_batch;

/// Allocates a batch of `count` receive slots (and the iovecs, addresses, control buffers).
vg_rx_batch *vg_rx_batch_create(int count);
void vg_rx_batch_destroy(vg_rx_batch *batch);
vg_rx_slot *vg_rx_batch_slots(vg_rx_batch *batch);

/// recvmmsg into the batch: returns the number of frames (>=0) or -errno.
/// `timeout_ms` < 0 blocks; 0 polls; the wait is done with poll() so a timeout returns 0.
int vg_rx_batch_receive(int fd, vg_rx_batch *batch, int timeout_ms);

/// setsockopt wrappers returning 0 or -errno.
int vg_set_filters(int fd, const struct can_filter *filters, int count);
int vg_set_int_option(int fd, int level, int name, int value);
int vg_set_error_mask(int fd, uint32_t mask);
/// Opens a raw CAN socket bound to ifindex (0 = all interfaces); returns fd or -errno.
int vg_open_raw(int ifindex, int fd_frames);
/// Sends one frame (16 or 72 bytes); returns 0 or -errno.
int vg_send(int fd, const struct canfd_frame *frame, int bytes);
/// Interface flags (IFF_UP, IFF_RUNNING ...) or -errno (-ENODEV when it does not exist).
int vg_interface_flags(const char *name);



/// poll() on several fds for POLLIN; writes revents into `revents`; returns ready count or -errno.
int vg_poll_many(const int *fds, short *revents, int count, int timeout_ms);
/// Sets the CAN FD data-phase bit rate over rtnetlink (IFLA_CAN_DATA_BITTIMING); libsocketcan
/// has no call for it. The interface must be down. Returns 0 or -errno (-EOPNOTSUPP on vcan).
int vg_set_data_bitrate(const char *name, uint32_t bitrate);

/// A non-blocking, close-on-exec eventfd (a wake-up counter), or -errno.
int vg_eventfd(void);

/// Waits up to `nanoseconds` for `fd` to become readable (ppoll: no millisecond rounding);
/// 1 readable, 0 timeout, or -errno.
int vg_wait_readable(int fd, int64_t nanoseconds);

#endif
