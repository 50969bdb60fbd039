#!/usr/bin/env python3
"""What the deployable binary is made of: its sections, and its code and data by origin.

    python Benchmarks/gateway/binary_size.py [.build-static/release/vehicle-gateway]

Reads the unstripped static build (symbols and sizes with `nm -S`) and sums each symbol's size
by where it comes from: Swift symbols by their module (from the mangled name), C and C++
symbols by the library they belong to (recognised by their prefixes). Sections come from
`readelf -S`; the stripped dist/ binary has the same loadable sections.
"""
import collections
import re
import subprocess
import sys

binary = sys.argv[1] if len(sys.argv) > 1 else ".build-static/release/vehicle-gateway"

sections = {}
for line in subprocess.run(["readelf", "-SW", binary], capture_output=True, text=True, check=True).stdout.splitlines():
    m = re.search(r"\]\s+(\S+)\s+\S+\s+[0-9a-f]+\s+[0-9a-f]+\s+([0-9a-f]+)", line)
    if m and int(m.group(2), 16) > 0:
        sections[m.group(1)] = int(m.group(2), 16)

OURS = {"CANBus", "CANLog", "DBC", "DecodeOutput", "SocketCAN", "CANControl", "Integrity", "VehicleState", "Gateway",
        "Simulate", "AssistantAPI", "Uplink", "KuksaAPI", "KuksaProtos", "vehicle_gateway"}
C_LIBS = [(r"^(icu|u_|ucnv|ucol|ubrk|udat|unum|uloc|ures|uprv|utrie|ustr|uset|ucase|uscript|ubidi|udata|icudt)", "ICU (Foundation)"),
          (r"^(OPENSSL|SSL_|ssl_|ossl_|EVP_|BIO_|X509|ASN1_|BN_|RSA_|EC_|CRYPTO_|ERR_|OBJ_|PEM_|PKCS|DH_|DSA_|HMAC|SHA|MD5|AES_|CMS_|OCSP|TLS|DTLS|tls|dtls)", "OpenSSL (libmosquitto's TLS)"),
          (r"^(CCryptoBoringSSL|CNIOBoringSSL|bssl|boringssl)", "BoringSSL (swift-crypto, swift-nio-ssl)"),
          (r"^(curl_|Curl_|curlx_)", "libcurl (FoundationNetworking)"),
          (r"^(mosquitto_|mosq_|packet__|property__|net__|send__|handle__|message__|will__|util__|log__)", "libmosquitto"),
          (r"^(deflate|inflate|crc32|adler32|gz|zlib|_tr_|z_)", "zlib"),
          (r"^(_ZN|_ZS|_ZT|_ZNK|__cxa|__gxx)", "C++ (libstdc++, runtime)"),
          (r"^(swift_|_swift|swift::)", "Swift runtime (C++)"),
          (r"^(dispatch_|_dispatch|_os_)", "libdispatch"),
          (r"^(yaml_)", "libyaml (Yams)")]
SWIFT_MODULE = re.compile(r"^\$s(\d+)([A-Za-z_][A-Za-z0-9_]*)")
STDLIB = {"s": "Swift standard library", "S": "Swift standard library"}


def origin(name):
    m = SWIFT_MODULE.match(name)
    if m:
        n = int(m.group(1))
        module = m.group(2)[:n]
        return ("ours: " + module) if module in OURS else module
    if name.startswith("$s"):
        return "Swift standard library"
    for pattern, lib in C_LIBS:
        if re.match(pattern, name):
            return lib
    return "other C"


by_origin = collections.Counter()
by_kind = collections.defaultdict(collections.Counter)
nm = subprocess.run(["nm", "-S", "--size-sort", binary], capture_output=True, text=True, check=True).stdout
for line in nm.splitlines():
    parts = line.split()
    if len(parts) < 4:
        continue
    size, kind, name = int(parts[1], 16), parts[2], parts[3]
    o = origin(name)
    by_origin[o] += size
    by_kind[o]["code" if kind in "tTwW" else "data"] += size

mib = lambda b: f"{b / 1048576:6.2f} MiB"
print(f"{binary}: sections")
for name, size in sorted(sections.items(), key=lambda kv: -kv[1])[:12]:
    print(f"  {name:32} {mib(size)}")
print("\nsymbols by origin (code + data; sections without symbols, such as ICU's data tables, eh_frame and relocations, are not in here)")
ours = sum(v for k, v in by_origin.items() if k.startswith("ours: "))
print(f"  {'ours, all modules':40} {mib(ours)}")
for o, size in by_origin.most_common(25):
    print(f"  {o:40} {mib(size)}   (code {mib(by_kind[o]['code'])})")
