#!/usr/bin/env bash
# vcan-vm.sh - run a command where real vcan (SocketCAN) interfaces exist.
#
# The development and CI machines run a kernel without SocketCAN (CONFIG_CAN unset), so
# `ip link add dev vcan0 type vcan` fails there.  This script then boots a throw-away QEMU VM
# with Debian's stock kernel (which has CAN as modules), the host's "/" as the guest's root
# (read-only 9p with a tmpfs overlay: the guest can write anywhere, those writes vanish), and
# the current directory shared read-write at the same path, creates the vcan interfaces and
# runs the command there.  Build on the host, run the built binaries/test bundles in the guest.
#
# If the host kernel CAN create vcan interfaces (`ip link add dev vcantest type vcan` works: a
# laptop, a CI runner with the can modules), the command simply runs on the host with the
# interfaces created there (and deleted afterwards if they did not exist before); no VM is
# booted, -w/-m/-c do not apply, and the whole environment is passed on.
#
# Usage:
#   scripts/vcan-vm.sh --setup              # once, as root: apt packages + guest kernel/initramfs
#   scripts/vcan-vm.sh [options] -- CMD [ARG...]
#
#   e.g. scripts/vcan-vm.sh -- bash Tests/vcan/smoke.sh
#        scripts/vcan-vm.sh -i vcan0 -e VG_BIN -- .build/debug/vehicle-gatewayPackageTests.xctest
#
# Options:
#   -i, --ifaces LIST   comma-separated vcan interfaces to create (default: vcan0,vcan1); all
#                       get `mtu 72` (CAN FD capable) and are up; `lo` is up too
#   -w, --rw DIR        also share DIR read-write at the same path (repeatable; the current
#                       directory is always shared read-write; the rest of the host's files
#                       are visible read-only, with writes going to a throw-away overlay)
#   -e, --env VAR[=VAL] pass host variable VAR (or set VAR=VAL) in the guest (repeatable)
#   -t, --timeout SECS  wall-clock limit for the whole run (default: 900)
#   -m, --mem MB        guest RAM (default: 1024)
#   -c, --cpus N        guest vCPUs (default: 2)
#   --direct            run on the host (fail if the host cannot create vcan interfaces)
#   --vm                always boot the VM, even if the host could create vcan interfaces
#                       (default: auto = --direct when the host kernel can, else --vm;
#                       env VCANVM_MODE=auto|direct|vm)
#   -k, --keep          keep the VM job directory (console log, qemu log) and print its path
#   -v, --verbose       print the guest console log and the run time afterwards
#   -h, --help          this text
#
# The command runs as you, in the current directory (give paths relative to it, or absolute).
# Its environment: VG_VCAN=1 (the SocketCAN integration tests run only then), VCANVM_RUN=vm or
# direct, VCANVM_IFACES=<LIST>, and in the VM VCANVM_GUEST=1.  The VM passes only PATH, HOME,
# USER, LOGNAME and LANG from the host and sets TERM=dumb; anything else needs -e.  In the VM
# stdin is /dev/null, output arrives as it is written (stdout and stderr separately), HOME and
# /tmp are writable but in guest RAM (about half of --mem) and vanish, and there is no network
# except `lo`.  net.core.rmem_max is 8388608 before the command runs, so sockets (and
# `candump -r 8388608`) can get an 8 MB receive buffer; direct mode raises it only if lower
# and restores it afterwards.
#
# Exit status: the command's; 124 if the time limit was hit; 125 for errors of this script or
# of the VM itself (missing package, boot failure, ...).
#
# Environment:
#   VCANVM_CACHE       guest kernel + initramfs (default /var/cache/vehicle-gateway-vcanvm)
#   VCANVM_KERNEL_PKG  kernel package instead of the one linux-image-amd64 depends on
#   VCANVM_MODE        auto | direct | vm (like --direct / --vm)
#   VCANVM_ACCEL       tcg | kvm | auto (default: kvm only with real hardware-assisted KVM; the
#                      nested `kvm_pvm` of the CI machines cannot boot a stock kernel -> tcg)
#
# Direct mode needs root or password-less sudo for `ip link` (the command itself runs as you).
# The VM needs (installed by --setup): qemu-system-x86 busybox-static can-utils kmod cpio
# xz-utils; root only for --setup.  Under software emulation a run costs ~7-9 s of boot and
# every program start 0.1-0.3 s: run many tests per VM, not one VM per test.
set -euo pipefail

PROG=${0##*/}
CACHE=${VCANVM_CACHE:-/var/cache/vehicle-gateway-vcanvm}
IFACES=vcan0,vcan1
RW_DIRS=()
ENV_SPECS=()
TIMEOUT=900
MEM=1024
CPUS=2
MODE=${VCANVM_MODE:-auto}
KEEP=0
VERBOSE=0
SETUP=0
RMEM_MAX=8388608

err() { echo "$PROG: error: $*" >&2; }
die() { err "$*"; exit 125; }
note() { echo "$PROG: $*" >&2; }

# as_root CMD...: run as root (directly, or through password-less sudo); fails otherwise
as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"
    elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo -n "$@"
    else return 1; fi
}

# ---------------------------------------------------------------------------------------------
# host packages
REQUIRED_PKGS=(qemu-system-x86 busybox-static can-utils kmod cpio xz-utils)
# (no `cmd | grep -q` here: with pipefail, grep quitting early makes the pipeline fail)
pkg_installed() { [[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) == *"install ok installed"* ]]; }
missing_pkgs() { local p; for p in "${REQUIRED_PKGS[@]}"; do pkg_installed "$p" || echo "$p"; done; }

apt_install() { DEBIAN_FRONTEND=noninteractive as_root apt-get install -y --no-install-recommends "$@" >/dev/null; }

install_packages() {
    local missing p need_update=0
    mapfile -t missing < <(missing_pkgs)
    ((${#missing[@]})) || return 0
    as_root true || die "need root (or password-less sudo) to install: ${missing[*]}"
    # no package lists at all, or a package apt does not know yet: update first
    compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null || need_update=1
    for p in "${missing[@]}"; do
        [[ $(apt-cache policy "$p" 2>/dev/null) == *"Candidate: "[0-9]* ]] || need_update=1
    done
    if ((need_update)); then note "apt-get update"; as_root apt-get update >/dev/null || die "apt-get update failed"; fi
    note "installing ${missing[*]}"
    if ! apt_install "${missing[@]}"; then # stale lists give 404s: update once and retry
        note "apt-get install failed; apt-get update and retry"
        as_root apt-get update >/dev/null || die "apt-get update failed"
        apt_install "${missing[@]}" || die "apt-get install ${missing[*]} failed"
    fi
}

check_vm_tools() {
    local missing
    mapfile -t missing < <(missing_pkgs)
    ((${#missing[@]} == 0)) || die "missing package(s): ${missing[*]}; run: $0 --setup"
    command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 not found"
    if ldd /bin/busybox >/dev/null 2>&1; then die "/bin/busybox is dynamically linked; install busybox-static"; fi
}

# ---------------------------------------------------------------------------------------------
# guest kernel + initramfs, cached in $CACHE/<kernel package>/ ($CACHE/current points to it)
GUEST_MODULES=(virtio_pci virtio_rng 9pnet_virtio 9p overlay
    can can-raw can-bcm can-gw can-isotp can-j1939 can-dev vcan vxcan)

kernel_pkg_name() {
    if [ -n "${VCANVM_KERNEL_PKG:-}" ]; then echo "$VCANVM_KERNEL_PKG"; return; fi
    local n
    n=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
    if [ -z "$n" ]; then
        as_root apt-get update >/dev/null 2>&1 || true
        n=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
    fi
    [ -n "$n" ] || die "cannot resolve linux-image-amd64 to a kernel package (run apt-get update)"
    echo "$n"
}

# The guest's /init (busybox sh).  Per-run settings come from the job share's `config`.
write_guest_init() {
    cat >"$1" <<'GUEST_INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
log() { echo "[vcanvm-init] $*" >/dev/console; }
halt_vm() { sync; poweroff -f; sleep 5; echo o >/proc/sysrq-trigger; }
fail() { log "FATAL: $*"; [ -d /job/. ] && echo "$*" >>/job/guest-error; halt_vm; }
log "kernel up at $(cut -d' ' -f1 /proc/uptime)s"
for m in $(cat /modules.list); do insmod "/mods/$m.ko" || log "insmod $m failed"; done
mkdir -p /job /lower /rw /newroot
O=trans=virtio,version=9p2000.L,msize=262144
mount -t 9p -o $O vcanvm_job /job || fail "cannot mount the job share"
. /job/config
mount -t 9p -o $O,ro,cache=loose hostroot /lower || fail "cannot mount the host root"
mount -t tmpfs -o mode=0755 tmpfs /rw
mkdir -p /rw/upper /rw/work
if mount -t overlay overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work /newroot 2>/dev/null; then
    R=/newroot
else
    log "overlayfs over 9p failed; read-only host root with tmpfs on /tmp /run /var/tmp"
    R=/lower
    for d in tmp run var/tmp; do mount -t tmpfs -o mode=1777 tmpfs "$R/$d"; done
fi
mount -t proc proc "$R/proc"
mount -t sysfs sysfs "$R/sys"
mount -t devtmpfs devtmpfs "$R/dev"
mkdir -p "$R/dev/pts" "$R/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666 devpts "$R/dev/pts"
mount -t tmpfs -o mode=1777 tmpfs "$R/dev/shm"
# what udev would add: bash process substitution needs /dev/fd, many tools /dev/std*
ln -sfn /proc/self/fd "$R/dev/fd"
ln -sfn /proc/self/fd/0 "$R/dev/stdin"
ln -sfn /proc/self/fd/1 "$R/dev/stdout"
ln -sfn /proc/self/fd/2 "$R/dev/stderr"
i=0
while [ "$i" -lt "$RW_COUNT" ]; do
    eval "p=\$RW_PATH_$i"
    mkdir -p "$R$p" 2>/dev/null
    mount -t 9p -o $O "vcanvm_rw$i" "$R$p" || fail "cannot mount the read-write share $p"
    i=$((i + 1))
done
mkdir -p "$R/run/vcanvm"
mount -o bind /job "$R/run/vcanvm" || fail "cannot bind the job directory"
hostname vcanvm
echo "$RMEM_MAX" >/proc/sys/net/core/rmem_max
echo "$RMEM_MAX" >/proc/sys/net/core/wmem_max
ip link set lo up
for ifc in $(echo "$IFACES" | tr ',' ' '); do
    ip link add dev "$ifc" type vcan || fail "ip link add $ifc type vcan failed"
    ip link set "$ifc" mtu 72 || fail "ip link set $ifc mtu 72 failed"
    ip link set "$ifc" up || fail "ip link set $ifc up failed"
done
log "ready at $(cut -d' ' -f1 /proc/uptime)s; running the command"
chroot "$R" /bin/bash /run/vcanvm/cmd.sh </dev/null >/job/stdout 2>/job/stderr
echo $? >/job/rc.tmp && mv /job/rc.tmp /job/rc
log "command finished at $(cut -d' ' -f1 /proc/uptime)s rc=$(cat /job/rc)"
halt_vm
GUEST_INIT
}

init_hash() {
    local t h
    t=$(mktemp)
    write_guest_init "$t"
    h=$(cat "$t" /bin/busybox | sha256sum | cut -c1-16)
    rm -f "$t"
    echo "$h"
}

# (re)build $1/initrd.cpio from $1/mods, $1/modules.list and the current /init
build_initrd() {
    local dir=$1 tmp
    tmp=$(mktemp -d "$CACHE/.initrd.XXXXXX")
    mkdir -p "$tmp/bin" "$tmp/proc" "$tmp/sys" "$tmp/dev"
    cp /bin/busybox "$tmp/bin/busybox"
    cp -r "$dir/mods" "$tmp/mods"
    cp "$dir/modules.list" "$tmp/modules.list"
    write_guest_init "$tmp/init"
    chmod 755 "$tmp/init"
    (cd "$tmp" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) >"$dir/initrd.cpio.new"
    mv "$dir/initrd.cpio.new" "$dir/initrd.cpio"
    init_hash >"$dir/initrd.sha"
    rm -rf "$tmp"
}

prepare_assets() {
    local pkg dir tmp kver m off
    mkdir -p "$CACHE" 2>/dev/null && [ -w "$CACHE" ] || die "cannot write $CACHE; run: $0 --setup (as root) or set VCANVM_CACHE"
    exec 9>"$CACHE/.lock"
    flock -w 600 9 || die "cannot lock $CACHE/.lock"
    pkg=$(kernel_pkg_name)
    dir=$CACHE/$pkg
    if [ -f "$dir/.complete" ]; then
        [ "$(cat "$dir/initrd.sha" 2>/dev/null)" = "$(init_hash)" ] || { note "rebuilding the initramfs"; build_initrd "$dir"; }
        ln -sfn "$pkg" "$CACHE/current"
        flock -u 9
        return 0
    fi
    note "preparing guest kernel $pkg in $dir"
    rm -rf "$dir"
    tmp=$(mktemp -d "$CACHE/.prep.XXXXXX")
    if ! (cd "$tmp" && apt-get download "$pkg" >/dev/null 2>&1); then
        note "apt-get download $pkg failed; apt-get update and retry"
        as_root apt-get update >/dev/null 2>&1 || true
        pkg=$(kernel_pkg_name)
        dir=$CACHE/$pkg
        (cd "$tmp" && apt-get download "$pkg" >/dev/null 2>&1) || { rm -rf "$tmp"; die "apt-get download $pkg failed"; }
    fi
    dpkg -x "$tmp"/"$pkg"_*.deb "$tmp/kernel" || { rm -rf "$tmp"; die "dpkg -x failed"; }
    kver=$(ls "$tmp/kernel/lib/modules" | head -n1)
    [ -n "$kver" ] && [ -f "$tmp/kernel/boot/vmlinuz-$kver" ] || { rm -rf "$tmp"; die "unexpected layout in $pkg"; }
    depmod -b "$tmp/kernel" "$kver" # the .deb ships no modules.dep (its postinst makes it)
    mkdir -p "$tmp/out/mods"
    : >"$tmp/out/modules.list"
    for m in "${GUEST_MODULES[@]}"; do
        # dependency order as modprobe computes it from the guest kernel's modules.dep
        modprobe -d "$tmp/kernel" -S "$kver" --show-depends "$m" | while read -r kw path _; do
            [ "$kw" = insmod ] || continue
            local base=${path##*/}
            case $base in
                *.ko.xz) xz -dc "$path" >"$tmp/out/mods/${base%.xz}"; base=${base%.xz} ;;
                *.ko.zst) zstd -dcq "$path" >"$tmp/out/mods/${base%.zst}"; base=${base%.zst} ;;
                *.ko) cp "$path" "$tmp/out/mods/$base" ;;
            esac
            base=${base%.ko}
            grep -qx -- "$base" "$tmp/out/modules.list" || echo "$base" >>"$tmp/out/modules.list"
        done
    done
    # The uncompressed vmlinux boots through the PVH entry point, skipping the bzImage
    # decompressor (1-4 s faster under TCG); the bzImage stays as the fallback.
    off=$(LC_ALL=C grep -aboP '\xfd7zXZ\x00' "$tmp/kernel/boot/vmlinuz-$kver" | head -n1 | cut -d: -f1 || true)
    if [ -n "$off" ] && { tail -c +"$((off + 1))" "$tmp/kernel/boot/vmlinuz-$kver" 2>/dev/null || true; } |
        xz -dc --single-stream >"$tmp/out/vmlinux" 2>/dev/null &&
        [ "$(head -c4 "$tmp/out/vmlinux" | od -An -tx1 | tr -d ' ')" = 7f454c46 ]; then :; else rm -f "$tmp/out/vmlinux"; fi
    mv "$tmp/kernel/boot/vmlinuz-$kver" "$tmp/out/vmlinuz"
    echo "$kver" >"$tmp/out/kver"
    mv "$tmp/out" "$dir"
    rm -rf "$tmp"
    build_initrd "$dir"
    touch "$dir/.complete"
    ln -sfn "$pkg" "$CACHE/current"
    flock -u 9
    note "guest kernel $kver ready in $dir; modules: $(tr '\n' ' ' <"$dir/modules.list")"
}

# ---------------------------------------------------------------------------------------------
# direct mode: the host kernel can make vcan interfaces
host_has_vcan() {
    local probe=vcantest$$
    command -v ip >/dev/null || return 1
    as_root ip link add dev "$probe" type vcan 2>/dev/null || return 1
    as_root ip link del dev "$probe" 2>/dev/null || true
}

run_direct() {
    local ifc rc spec
    CREATED=()
    OLD_RMEM=$(cat /proc/sys/net/core/rmem_max)
    cleanup_direct() {
        local i
        for i in "${CREATED[@]}"; do as_root ip link del dev "$i" 2>/dev/null || true; done
        if [ "$OLD_RMEM" -lt "$RMEM_MAX" ]; then as_root sh -c "echo $OLD_RMEM >/proc/sys/net/core/rmem_max" || true; fi
    }
    trap cleanup_direct EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    for ifc in ${IFACES//,/ }; do
        if ip link show dev "$ifc" >/dev/null 2>&1; then # exists already: keep it, make it FD-capable
            [[ $(ip -d link show dev "$ifc") == *" vcan "* ]] || die "$ifc exists and is not a vcan interface"
            if [ "$(cat "/sys/class/net/$ifc/mtu")" != 72 ]; then
                as_root ip link set "$ifc" down && as_root ip link set "$ifc" mtu 72 || die "cannot set mtu 72 on $ifc"
            fi
        else
            as_root ip link add dev "$ifc" type vcan || die "ip link add $ifc type vcan failed"
            CREATED+=("$ifc")
            as_root ip link set "$ifc" mtu 72 || die "ip link set $ifc mtu 72 failed"
        fi
        as_root ip link set "$ifc" up || die "ip link set $ifc up failed"
    done
    if [ "$OLD_RMEM" -lt "$RMEM_MAX" ]; then
        as_root sh -c "echo $RMEM_MAX >/proc/sys/net/core/rmem_max" || note "cannot raise net.core.rmem_max"
    fi
    for spec in "${ENV_SPECS[@]}"; do
        case $spec in *=*) export "${spec%%=*}=${spec#*=}" ;; esac
    done
    export VCANVM_RUN=direct VCANVM_IFACES=$IFACES VG_VCAN=1
    set +e
    timeout --kill-after=10 "$TIMEOUT" "$@"
    rc=$?
    set -e
    exit "$rc"
}

# ---------------------------------------------------------------------------------------------
# VM mode
run_vm() {
    local accel_args kernel start elapsed qrc rc i d n
    check_vm_tools
    if [ ! -f "$CACHE/current/.complete" ]; then
        note "no guest kernel in $CACHE yet; preparing it (run '$0 --setup' beforehand to avoid this)"
        prepare_assets
    elif [ "$(cat "$CACHE/current/initrd.sha" 2>/dev/null)" != "$(init_hash)" ]; then
        # this script's guest /init changed since the initramfs was built: rebuild just that
        [ -w "$CACHE" ] || die "the initramfs in $CACHE is out of date; run: $0 --setup"
        note "rebuilding the initramfs"
        (flock -w 600 9 || die "cannot lock $CACHE/.lock"; build_initrd "$(readlink -f "$CACHE/current")") 9>"$CACHE/.lock"
    fi
    ASSETS=$(readlink -f "$CACHE/current")

    local accel=${VCANVM_ACCEL:-auto}
    if [ "$accel" = auto ]; then
        if [ -d /sys/module/kvm_pvm ]; then accel=tcg # PVM cannot run a stock kernel at usable speed
        elif [ -r /dev/kvm ] && [ -w /dev/kvm ] && grep -qwE 'vmx|svm' /proc/cpuinfo; then accel=kvm
        else accel=tcg; fi
    fi
    case $accel in
        # -arch-capabilities: QEMU 7.2 aborts with "failed to set MSR 0x10a" on some nested hosts
        kvm) accel_args=(-accel kvm -cpu host,-arch-capabilities) ;;
        tcg) accel_args=(-accel tcg,thread=multi -cpu max) ;;
        *) die "VCANVM_ACCEL must be tcg, kvm or auto" ;;
    esac

    JOB=$(mktemp -d "${TMPDIR:-/tmp}/vcanvm-job.XXXXXX")
    QEMU_PID=
    TAIL_PIDS=()
    cleanup_vm() {
        local p
        if [ -n "$QEMU_PID" ] && kill -0 "$QEMU_PID" 2>/dev/null; then
            kill -TERM "$QEMU_PID" 2>/dev/null || true
            for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$QEMU_PID" 2>/dev/null || break; sleep 0.2; done
            kill -KILL "$QEMU_PID" 2>/dev/null || true
        fi
        for p in "${TAIL_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
        if ((KEEP)); then note "job directory kept: $JOB"; else rm -rf "$JOB"; fi
    }
    trap cleanup_vm EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM

    # read-write shares: the current directory, then -w; parents before children, no duplicates
    local shares=() sorted=()
    if [ "$PWD" = / ]; then note "not sharing / read-write"; else shares+=("$PWD"); fi
    for d in "${RW_DIRS[@]}"; do
        d=$(readlink -f "$d") && [ -d "$d" ] || die "not a directory: $d"
        [ "$d" != / ] || die "refusing to share / read-write"
        shares+=("$d")
    done
    local k covered
    while IFS= read -r d; do
        covered=0
        for k in "${sorted[@]}"; do [[ $d == "$k"/* ]] && covered=1; done
        ((covered)) || sorted+=("$d")
    done < <(((${#shares[@]})) && printf '%s\n' "${shares[@]}" | sort -u | awk '{print length($0) "\t" $0}' | sort -n -s | cut -f2-)

    local virtfs=(-virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap"
        -virtfs "local,path=$JOB,mount_tag=vcanvm_job,security_model=none,multidevs=remap")
    {
        echo "IFACES='$IFACES'"
        echo "RMEM_MAX=$RMEM_MAX"
        echo "RW_COUNT=${#sorted[@]}"
    } >"$JOB/config"
    i=0
    for d in "${sorted[@]}"; do
        [[ $d != *,* && $d != *"'"* ]] || die "unsupported character (, or ') in path: $d"
        virtfs+=(-virtfs "local,path=$d,mount_tag=vcanvm_rw$i,security_model=none,multidevs=remap")
        echo "RW_PATH_$i='$d'" >>"$JOB/config"
        i=$((i + 1))
    done

    # the command, run by bash inside the chroot
    {
        echo "export PATH=$(printf %q "$PATH")"
        echo "export HOME=$(printf %q "${HOME:-/root}") USER=$(printf %q "${USER:-$(id -un)}") LOGNAME=$(printf %q "${LOGNAME:-$(id -un)}")"
        echo "export LANG=$(printf %q "${LANG:-C.UTF-8}") TERM=dumb"
        echo "export VCANVM_GUEST=1 VCANVM_RUN=vm VCANVM_IFACES=$IFACES VG_VCAN=1"
        for spec in "${ENV_SPECS[@]}"; do
            n=${spec%%=*}
            [[ $n =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || die "bad environment variable name: $n"
            if [[ $spec == *=* ]]; then echo "export $n=$(printf %q "${spec#*=}")"
            elif [ -n "${!n+x}" ]; then echo "export $n=$(printf %q "${!n}")"; fi
        done
        echo "cd $(printf %q "$PWD") || exit 125"
        printf 'exec'; printf ' %q' "$@"; echo
    } >"$JOB/cmd.sh"
    : >"$JOB/stdout"
    : >"$JOB/stderr"

    kernel=$ASSETS/vmlinuz
    [ -f "$ASSETS/vmlinux" ] && kernel=$ASSETS/vmlinux
    start=$(date +%s.%N)
    timeout --kill-after=10 "$TIMEOUT" qemu-system-x86_64 \
        "${accel_args[@]}" -m "$MEM" -smp "$CPUS" \
        -nodefaults -no-user-config -display none -no-reboot -nic none \
        -serial "file:$JOB/console.log" \
        -device virtio-rng-pci \
        -kernel "$kernel" -initrd "$ASSETS/initrd.cpio" \
        -append "console=ttyS0 quiet loglevel=4 panic=-1 8250.nr_uarts=1 tsc=reliable mitigations=off ${VCANVM_KERNEL_ARGS:-}" \
        "${virtfs[@]}" </dev/null >"$JOB/qemu.log" 2>&1 &
    QEMU_PID=$!
    # the guest writes the command's output to the job share; follow it live
    tail -n +1 -s 0.2 --pid="$QEMU_PID" -f "$JOB/stdout" &
    TAIL_PIDS+=($!)
    tail -n +1 -s 0.2 --pid="$QEMU_PID" -f "$JOB/stderr" >&2 &
    TAIL_PIDS+=($!)
    set +e
    wait "$QEMU_PID"
    qrc=$?
    set -e
    QEMU_PID=
    for i in "${TAIL_PIDS[@]}"; do wait "$i" 2>/dev/null || true; done
    TAIL_PIDS=()
    elapsed=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN{printf "%.1f", e - s}')

    if ((VERBOSE)); then
        note "---- guest console (accel=$accel, ${elapsed}s) ----"
        tr -d '\r' <"$JOB/console.log" >&2 || true
    fi
    if [ -f "$JOB/rc" ]; then
        rc=$(cat "$JOB/rc")
        ((VERBOSE)) && note "exit status $rc (accel=$accel, ${elapsed}s from qemu start to poweroff)"
        exit "$rc"
    fi
    if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
        err "time limit of ${TIMEOUT}s hit (accel=$accel); guest console tail:"
        tail -n 20 "$JOB/console.log" | tr -d '\r' >&2 || true
        exit 124
    fi
    err "the VM ended without a result (qemu exit $qrc, accel=$accel, ${elapsed}s)"
    cat "$JOB/guest-error" >&2 2>/dev/null || true
    tail -n 20 "$JOB/qemu.log" >&2 || true
    tail -n 30 "$JOB/console.log" | tr -d '\r' >&2 || true
    exit 125
}

# ---------------------------------------------------------------------------------------------
need_arg() { (($2 >= 2)) || die "$1 needs a value (see --help)"; }
while (($#)); do
    case $1 in
        --setup) SETUP=1; shift ;;
        -i | --ifaces) need_arg "$1" $#; IFACES=$2; shift 2 ;;
        -w | --rw) need_arg "$1" $#; RW_DIRS+=("$2"); shift 2 ;;
        -e | --env) need_arg "$1" $#; ENV_SPECS+=("$2"); shift 2 ;;
        -t | --timeout) need_arg "$1" $#; TIMEOUT=$2; shift 2 ;;
        -m | --mem) need_arg "$1" $#; MEM=$2; shift 2 ;;
        -c | --cpus) need_arg "$1" $#; CPUS=$2; shift 2 ;;
        --direct) MODE=direct; shift ;;
        --vm) MODE=vm; shift ;;
        -k | --keep) KEEP=1; shift ;;
        -v | --verbose) VERBOSE=1; shift ;;
        -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        --) shift; break ;;
        -*) die "unknown option $1 (see --help)" ;;
        *) break ;;
    esac
done

if ((SETUP)); then
    install_packages
    check_vm_tools
    prepare_assets
    exit 0
fi
(($#)) || die "no command given (see --help)"
[[ $IFACES =~ ^[A-Za-z0-9_.-]{1,15}(,[A-Za-z0-9_.-]{1,15})*$ ]] || die "bad interface list: $IFACES"
[[ $TIMEOUT =~ ^[0-9]+$ && $MEM =~ ^[0-9]+$ && $CPUS =~ ^[0-9]+$ ]] || die "timeout/mem/cpus must be integers"
case $MODE in
    auto) if host_has_vcan; then run_direct "$@"; else run_vm "$@"; fi ;;
    direct) host_has_vcan || die "the host kernel cannot create vcan interfaces (or no root/sudo); use --vm"
        run_direct "$@" ;;
    vm) run_vm "$@" ;;
    *) die "VCANVM_MODE must be auto, direct or vm" ;;
esac
