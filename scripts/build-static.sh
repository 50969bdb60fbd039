#!/usr/bin/env bash
# Builds the deployable gateway: release, Swift runtime linked in, and nothing dynamic but glibc
# and libsocketcan. Writes .build-static/release/vehicle-gateway and, stripped, dist/vehicle-gateway.
#
# Why more than `swift build --static-swift-stdlib`: the MCP SDK imports FoundationNetworking,
# whose static library links libcurl, and Debian's libcurl.so drags in TLS, LDAP, Kerberos, SSH
# and IDN libraries (about 30 shared objects). The gateway never makes an HTTP client request, so
# we link a libcurl built from Debian's own source package (with its security patches) for HTTP
# only, as a static archive, together with static zlib, libstdc++ and libgcc. The uplink's
# libmosquitto, which Debian ships only shared, is built the same way, with static OpenSSL.
#
# Usage: bash scripts/build-static.sh [--check]
#   --check  also run the binary in a root file system holding only glibc and libsocketcan.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/system-deps.sh
. scripts/lib/deploy-libs.sh
command -v make >/dev/null && command -v gcc >/dev/null && command -v patch >/dev/null &&
    command -v xz >/dev/null || apt_install make gcc patch xz-utils

scratch=.build-static
work="$scratch/static-libs"
mkdir -p "$work"

# --- libcurl, HTTP only, static, from Debian's source of the libcurl4 the machine has ---------
curl_prefix="$work/curl"
if [ ! -f "$curl_prefix/lib/libcurl.a" ]; then
    version=$(apt-cache policy libcurl4 | awk '/Candidate:/ {print $2}')
    [ -n "$version" ] && [ "$version" != "(none)" ] || { echo "no libcurl4 version known to apt" >&2; exit 1; }
    upstream=${version%-*}
    src="$work/curl-src"
    rm -rf "$src" && mkdir -p "$src"
    echo "== fetching curl $version source (Debian)" >&2
    fetched=""
    for pool in http://deb.debian.org/debian/pool/main/c/curl \
                http://deb.debian.org/debian-security/pool/updates/main/c/curl; do
        if curl -sSfL -o "$src/curl.dsc" "$pool/curl_${version}.dsc" 2>/dev/null; then
            curl -sSfL -o "$src/curl_${upstream}.orig.tar.gz" "$pool/curl_${upstream}.orig.tar.gz"
            curl -sSfL -o "$src/curl_${version}.debian.tar.xz" "$pool/curl_${version}.debian.tar.xz"
            fetched=yes
            break
        fi
    done
    [ -n "$fetched" ] || { echo "curl_${version} source not found in Debian's pools (apt-get update && apt-get upgrade libcurl4, then again)" >&2; exit 1; }
    # The .dsc lists each file's SHA-256; refuse anything else.
    (cd "$src" && awk '/^Checksums-Sha256:/ {on=1; next} /^[^ ]/ {on=0} on && NF==3 {print $1 "  " $3}' curl.dsc |
        grep -E 'orig\.tar\.gz$|debian\.tar\.xz$' | sha256sum -c --quiet -)
    mkdir -p "$src/tree"
    tar -xzf "$src/curl_${upstream}.orig.tar.gz" -C "$src/tree" --strip-components=1
    tar -xJf "$src/curl_${version}.debian.tar.xz" -C "$src"
    # Debian's source fixes, without its flavour renames (GnuTLS, NSS) and build-system changes
    # (those would need autotools to regenerate; none touches the HTTP code).
    grep -v '^#' "$src/debian/patches/series" | while read -r p; do
        [ -n "$p" ] || continue
        if grep -qE '^\+\+\+ .*(Makefile\.am|configure\.ac|\.m4)' "$src/debian/patches/$p"; then continue; fi
        case "$p" in 90_gnutls*|99_nss*) continue ;; esac
        patch -d "$src/tree" -p1 -s <"$src/debian/patches/$p"
    done
    echo "== building libcurl (static, HTTP only)" >&2
    (cd "$src/tree" && ./configure --quiet --prefix="$PWD/../../curl" \
        --disable-shared --enable-static --with-pic \
        --without-ssl --without-zlib --without-brotli --without-zstd --without-libidn2 \
        --without-libpsl --without-nghttp2 --without-librtmp --without-libssh2 --without-gssapi \
        --disable-ldap --disable-ldaps --disable-rtsp --disable-dict --disable-telnet --disable-tftp \
        --disable-pop3 --disable-imap --disable-smb --disable-smtp --disable-gopher --disable-mqtt \
        --disable-ftp --disable-ntlm --disable-alt-svc --disable-manual >/dev/null &&
        make -s -j"$(nproc)" -C lib >/dev/null && make -s -C lib install >/dev/null)
    rm -rf "$src"
fi

# --- libmosquitto (the uplink's MQTT client), static, from Debian's source of libmosquitto1 ---
# Debian ships it only as a shared library; built here with TLS (static OpenSSL, libssl-dev),
# without SRV lookups (c-ares) or cJSON, which the client library does not need.
mosq_prefix="$work/mosquitto"
if [ ! -f "$mosq_prefix/libmosquitto.a" ]; then
    pkg-config --exists libssl 2>/dev/null && [ -f "$(pkg-config --variable=libdir libssl)/libssl.a" ] || apt_install libssl-dev
    version=$(apt-cache policy libmosquitto1 | awk '/Candidate:/ {print $2}')
    [ -n "$version" ] && [ "$version" != "(none)" ] || { echo "no libmosquitto1 version known to apt" >&2; exit 1; }
    upstream=${version%-*}
    src="$work/mosquitto-src"
    rm -rf "$src" && mkdir -p "$src"
    echo "== fetching mosquitto $version source (Debian)" >&2
    fetched=""
    for pool in http://deb.debian.org/debian/pool/main/m/mosquitto \
                http://deb.debian.org/debian-security/pool/updates/main/m/mosquitto; do
        if curl -sSfL -o "$src/mosquitto.dsc" "$pool/mosquitto_${version}.dsc" 2>/dev/null; then
            curl -sSfL -o "$src/mosquitto_${upstream}.orig.tar.gz" "$pool/mosquitto_${upstream}.orig.tar.gz"
            curl -sSfL -o "$src/mosquitto_${version}.debian.tar.xz" "$pool/mosquitto_${version}.debian.tar.xz"
            fetched=yes
            break
        fi
    done
    [ -n "$fetched" ] || { echo "mosquitto_${version} source not found in Debian's pools" >&2; exit 1; }
    (cd "$src" && awk '/^Checksums-Sha256:/ {on=1; next} /^[^ ]/ {on=0} on && NF==3 {print $1 "  " $3}' mosquitto.dsc |
        grep -E 'orig\.tar\.gz$|debian\.tar\.xz$' | sha256sum -c --quiet -)
    mkdir -p "$src/tree"
    tar -xzf "$src/mosquitto_${upstream}.orig.tar.gz" -C "$src/tree" --strip-components=1
    tar -xJf "$src/mosquitto_${version}.debian.tar.xz" -C "$src"
    grep -v '^#' "$src/debian/patches/series" | while read -r p; do
        [ -n "$p" ] || continue
        patch -d "$src/tree" -p1 -s -f <"$src/debian/patches/$p" >/dev/null
    done
    echo "== building libmosquitto (static, TLS through static OpenSSL)" >&2
    make -s -C "$src/tree/lib" WITH_SHARED_LIBRARIES=no WITH_STATIC_LIBRARIES=yes WITH_DOCS=no WITH_SRV=no WITH_CJSON=no \
        WITH_TLS=yes WITH_THREADING=yes CFLAGS="-O2 -fPIC" >/dev/null 2>&1
    mkdir -p "$mosq_prefix"
    cp "$src/tree/lib/libmosquitto.a" "$mosq_prefix/"
    rm -rf "$src"
fi
# --- a library directory searched before the system's: static archives only ----------------
libdir="$work/lib"
mkdir -p "$libdir"
ln -sf "$PWD/$curl_prefix/lib/libcurl.a" "$libdir/libcurl.a"
ln -sf "$(gcc -print-file-name=libstdc++.a)" "$libdir/libstdc++.a"
zlib_a=$(pkg-config --variable=libdir zlib)/libz.a
[ -f "$zlib_a" ] || { echo "$zlib_a missing (zlib1g-dev)" >&2; exit 1; }
ln -sf "$zlib_a" "$libdir/libz.a"
ln -sf "$PWD/$mosq_prefix/libmosquitto.a" "$libdir/libmosquitto.a"
for ssl in libssl libcrypto; do ln -sf "$(pkg-config --variable=libdir libssl)/$ssl.a" "$libdir/$ssl.a"; done

# The system .pc files add -L/usr/lib/<triple> ahead of everything, which would pick the .so
# files again; these copies name the libraries only.
pcdir="$work/pkgconfig"
mkdir -p "$pcdir"
cat >"$pcdir/libsocketcan.pc" <<PC
Name: libsocketcan
Description: SocketCAN controller control (system library, dynamic)
Version: $(pkg-config --modversion libsocketcan)
Libs: -lsocketcan
Cflags: $(pkg-config --cflags libsocketcan)
PC
cat >"$pcdir/libmosquitto.pc" <<PC
Name: libmosquitto
Description: MQTT client library (static archive from $libdir, with static OpenSSL)
Version: $(pkg-config --modversion libmosquitto)
Libs: -lmosquitto -lssl -lcrypto
Cflags: $(pkg-config --cflags libmosquitto)
PC
cat >"$pcdir/zlib.pc" <<PC
Name: zlib
Description: zlib (static archive from $libdir)
Version: $(pkg-config --modversion zlib)
Libs: -lz
Cflags: $(pkg-config --cflags zlib)
PC

echo "== swift build -c release --static-swift-stdlib (first build: several minutes)" >&2
swift build -c release --static-swift-stdlib --scratch-path "$scratch" --product vehicle-gateway \
    --pkg-config-path "$pcdir" \
    -Xswiftc -L"$PWD/$libdir" -Xswiftc -Xclang-linker -Xswiftc -static-libgcc \
    -Xlinker --as-needed
binary="$scratch/release/vehicle-gateway"

# What the dynamic loader will be asked for must be glibc's and libsocketcan's, nothing else.
needed=$(readelf -d "$binary" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort | tr '\n' ' ')
for lib in $needed; do
    is_deploy_library "$lib" || { echo "static build still needs $lib (all: $needed)" >&2; exit 1; }
done
mkdir -p dist
strip -o dist/vehicle-gateway "$binary"
echo "dist/vehicle-gateway: $(du -m dist/vehicle-gateway | cut -f1) MiB stripped; needs: $needed" >&2

if [ "${1:-}" = "--check" ]; then
    bash scripts/check-static.sh dist/vehicle-gateway
fi
