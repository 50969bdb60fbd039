"""The dashboard's cost, measured with Debian's headless Chromium (Selenium):
- page weight: every byte the page loads (document, script, style, Leaflet, Chart.js) and the
  data it polls per second;
- time to first data: from navigation start to the first context drawn, on the loopback;
- the gateway's CPU with 0 and with 10 dashboards open on four buses replayed at 10 k frames/s
  (the same inputs as the live-CPU figure of scripts/bench.sh).
Usage: python Benchmarks/api/dashboard_bench.py BINARY [--seconds N]"""
import argparse
import shutil
import statistics
import sys
import time
import pathlib

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "perf"))
from common import Gateway, cpu_seconds, four_bus_inputs, rss_mib  # noqa: E402

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1400"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)


def wait(driver, script, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        v = driver.execute_script(script)
        if v:
            return v
        time.sleep(0.05)
    raise RuntimeError("timed out: " + script)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("binary")
    ap.add_argument("--seconds", type=float, default=10)
    args = ap.parse_args()
    mapping, logs = four_bus_inputs(args.binary)
    per_bus = sum(1 for _ in open(logs[0])) / 600.0
    speed = 10_000 / (4 * per_bus)
    gw = Gateway(args.binary, "--mapping", mapping, *[x for log in logs for x in ("--replay", log)], "--speed", f"{speed:.3f}", "--loop", "0")
    url = f"http://127.0.0.1:{gw.port}/"
    driver = browser()
    try:
        # Page weight and time to first data: ten cold loads (cache off).
        driver.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})
        firsts, weight = [], 0
        for _ in range(10):
            driver.get(url)
            firsts.append(wait(driver, "return window.vgFirstDataMs"))
            weight = driver.execute_script("""
                const nav = performance.getEntriesByType('navigation')[0];
                return nav.encodedBodySize + performance.getEntriesByType('resource')
                    .filter(e => !e.name.includes('/v1/') && !e.name.includes('/healthz'))
                    .reduce((s, e) => s + e.encodedBodySize, 0);""")
        polled = 2 * len(gw_bytes(gw, "/v1/signals")) + len(gw_bytes(gw, "/healthz"))

        def cpu(seconds):
            f0, c0, t0 = gw.frames(), cpu_seconds(gw.proc.pid), time.perf_counter()
            time.sleep(seconds)
            f1, c1, t1 = gw.frames(), cpu_seconds(gw.proc.pid), time.perf_counter()
            return (f1 - f0) / (t1 - t0), (c1 - c0) / (t1 - t0) * 100

        driver.get("about:blank")
        time.sleep(2)
        rate0, cpu0 = cpu(args.seconds)
        # Ten dashboards, each in a window of its own (a browser holds at most six HTTP/1.1
        # connections to one origin, and each open dashboard's stream takes one): two browsers,
        # five windows each.
        second = browser()
        for b in (driver, second):
            b.get(url)
            for _ in range(4):
                b.switch_to.new_window("window")
                b.get(url)
        for b in (driver, second):
            for handle in b.window_handles:
                b.switch_to.window(handle)
                wait(b, "return window.vgFirstDataMs")
        time.sleep(2)
        rate10, cpu10 = cpu(args.seconds)
        clients = gw.get("/healthz")["clients"]
        rss = rss_mib(gw.proc.pid)
        second.quit()
    finally:
        driver.quit()
        gw.stop()
    print(f"page weight (document, own script and style, Leaflet, Chart.js): {weight / 1024:.0f} KiB; "
          f"polled each second: {polled / 1024:.1f} KiB (/v1/signals twice, /healthz once), plus the context stream at up to 10 events/s")
    print(f"time to first data, cold, loopback: median {statistics.median(firsts):.0f} ms, max {max(firsts):.0f} ms (10 loads)")
    print(f"gateway CPU at {rate0 / 1000:.1f} k frames/s, no dashboard: {cpu0:.1f} % of a core")
    print(f"gateway CPU at {rate10 / 1000:.1f} k frames/s, 10 dashboards open ({clients['sse']} SSE streams): {cpu10:.1f} % of a core "
          f"(+{cpu10 - cpu0:.1f} points); RSS {rss:.1f} MiB")


def gw_bytes(gw, path):
    import urllib.request
    with urllib.request.urlopen(f"http://127.0.0.1:{gw.port}{path}", timeout=10) as r:
        return r.read()


if __name__ == "__main__":
    main()
