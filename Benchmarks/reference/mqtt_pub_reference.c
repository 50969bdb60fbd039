/* The reference for the uplink's throughput: libmosquitto alone, in C, publishing the same
 * payload M times at QoS 1 (MQTT 5, up to 64 in flight, as the gateway) to the same broker,
 * timed from the first publish to the last PUBACK. No queue, no journal: the floor of the
 * client library the gateway uses.
 * Build: cc -O2 -o mqtt_pub_reference mqtt_pub_reference.c -lmosquitto
 * Usage: mqtt_pub_reference PORT PAYLOAD_FILE MESSAGES   -> "REF live_acknowledged <msg/s> msg/s" */
#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static int acknowledged, connected;

static void on_connect(struct mosquitto *m, void *o, int rc, int flags, const mosquitto_property *p) {
    pthread_mutex_lock(&lock); connected = rc == 0 ? 1 : -1; pthread_cond_broadcast(&changed); pthread_mutex_unlock(&lock);
}

static void on_publish(struct mosquitto *m, void *o, int mid, int rc, const mosquitto_property *p) {
    pthread_mutex_lock(&lock); acknowledged++; pthread_cond_broadcast(&changed); pthread_mutex_unlock(&lock);
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc != 4) { fprintf(stderr, "usage: %s PORT PAYLOAD_FILE MESSAGES\n", argv[0]); return 2; }
    FILE *f = fopen(argv[2], "rb");
    if (!f) { perror(argv[2]); return 1; }
    static char payload[1 << 20];
    size_t size = fread(payload, 1, sizeof payload, f);
    fclose(f);
    int n = atoi(argv[3]);
    mosquitto_lib_init();
    struct mosquitto *m = mosquitto_new("reference-publisher", true, NULL);
    mosquitto_int_option(m, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
    mosquitto_max_inflight_messages_set(m, 64);
    mosquitto_connect_v5_callback_set(m, on_connect);
    mosquitto_publish_v5_callback_set(m, on_publish);
    if (mosquitto_connect_bind_v5(m, "127.0.0.1", atoi(argv[1]), 30, NULL, NULL) != MOSQ_ERR_SUCCESS) { fprintf(stderr, "cannot connect\n"); return 1; }
    mosquitto_loop_start(m);
    pthread_mutex_lock(&lock);
    while (!connected) pthread_cond_wait(&changed, &lock);
    pthread_mutex_unlock(&lock);
    if (connected < 0) { fprintf(stderr, "refused\n"); return 1; }
    double t0 = now();
    for (int i = 0; i < n; i++) mosquitto_publish_v5(m, NULL, "bench/reference/context", (int)size, payload, 1, false, NULL);
    pthread_mutex_lock(&lock);
    while (acknowledged < n) pthread_cond_wait(&changed, &lock);
    pthread_mutex_unlock(&lock);
    double t1 = now();
    printf("REF live_acknowledged %.1f msg/s\n", n / (t1 - t0));
    mosquitto_disconnect(m);
    mosquitto_loop_stop(m, false);
    mosquitto_destroy(m);
    return 0;
}
