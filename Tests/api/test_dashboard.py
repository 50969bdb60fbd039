"""The dashboard in a real browser: Debian's headless Chromium driven by Selenium, against the
gateway replaying the demo drive. The speed tile follows /v1/context within a second, the map's
marker moves, the position turns stale in the tunnel, a replay that ends shows its bus ended,
and with a token the page shows nothing until it is given. Screenshots of each state go to
test-artifacts/dashboard/."""
import json
import os
import pathlib
import shutil
import subprocess
import threading
import time

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

from conftest import DEMO_LOG, DEMO_MAPPING, ROOT, Gateway, wait_for

WEB = ROOT / "web" / "dashboard"
SHOTS = ROOT / "test-artifacts" / "dashboard"
CHROMIUM = shutil.which("chromium")
DRIVER = shutil.which("chromedriver")


@pytest.fixture
def browser():
    assert CHROMIUM and DRIVER, "Debian's chromium and chromium-driver are needed (scripts/lib/system-deps.sh installs them)"
    SHOTS.mkdir(parents=True, exist_ok=True)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1400",
                 "--no-first-run", "--disable-background-networking", "--disable-component-update"):
        options.add_argument(flag)
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must not look for drivers on the internet
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def text(driver, element_id):
    return driver.find_element(By.ID, element_id).text


def js_text(driver, selector):
    """The text of the first element matching, read in the page (rows are updated in place)."""
    return driver.execute_script("const e = document.querySelector(arguments[0]); return e ? e.textContent : null", selector)


def context(g):
    body, code = g.curl("/v1/context")
    assert code == 200, body
    return json.loads(body)


def test_the_served_page_is_the_repo_files_and_the_libraries_come_from_debian(gateway_factory, tmp_path):
    g = gateway_factory("--replay", DEMO_LOG, "--mapping", DEMO_MAPPING)
    for path, file in (("/", "index.html"), ("/dashboard/dashboard.js", "dashboard.js"), ("/dashboard/dashboard.css", "dashboard.css")):
        body, code = g.curl(path)
        assert code == 200 and body == (WEB / file).read_text().rstrip("\n"), f"{path}: run scripts/embed-web.py after editing web/dashboard/"
    for name, installed in (("leaflet.js", "/usr/share/javascript/leaflet/leaflet.min.js"), ("chart.js", "/usr/share/javascript/chart.js/chart.min.js")):
        body, code = g.curl("/dashboard/lib/" + name)
        assert code == 200 and body == pathlib.Path(installed).read_text(), name
    # Debian's precompressed Leaflet, to a client that takes gzip (curl --compressed unpacks it).
    body, code = g.curl("/dashboard/lib/leaflet.js", "--compressed", "-H", "Accept-Encoding: gzip")
    assert code == 200 and body == pathlib.Path("/usr/share/javascript/leaflet/leaflet.min.js").read_text()
    body, code = g.curl("/dashboard/lib/..%2F..%2Fetc%2Fpasswd")
    assert code == 404 and "served are" in body
    # A plain GET of /viss is told to upgrade; / upgraded is still VISS (test_viss covers it).
    body, code = g.curl("/viss")
    assert code == 426 and "WebSocket" in body
    # Libraries missing: the message names the file and the Debian package.
    g2 = gateway_factory("--replay", DEMO_LOG, "--mapping", DEMO_MAPPING, "--web-lib-dir", tmp_path)
    body, code = g2.curl("/dashboard/lib/leaflet.js")
    assert code == 404 and f"{tmp_path}/leaflet/leaflet.min.js" in body and "libjs-leaflet" in body, body


def test_the_page_follows_the_drive_and_shows_the_tunnel(gateway_factory, browser):
    g = gateway_factory("--replay", DEMO_LOG, "--mapping", DEMO_MAPPING, "--speed", 2)  # the tunnel: 23-27 s in
    api, stop = [], threading.Event()

    def poll_api():
        while not stop.is_set():
            c = context(g)
            api.append((time.time(), c["speed"].get("speed_kmh"), c["location"]["state"], c["speed"]["state"]))
            time.sleep(0.05)

    poller = threading.Thread(target=poll_api, daemon=True)
    poller.start()
    try:
        browser.get(g.url + "/")
        wait_for(lambda: text(browser, "connection") == "live", timeout=30)
        assert browser.execute_script("return typeof Chart") == "function" and browser.execute_script("return typeof L") == "object"
        # The speed tile, sampled for a while, is always a speed the API gave within the last second.
        tiles, table, positions, start = [], [], [], time.time()
        while time.time() - start < 12:
            t, value = time.time(), text(browser, "speed")
            if value not in ("", "–"):
                tiles.append((t, float(value)))
            cell = js_text(browser, '#signals tr[data-path="Vehicle.Speed"] td')
            if cell not in (None, "", "—"):
                table.append((t, float(cell)))
            positions.append(browser.find_element(By.ID, "position").get_attribute("data-lat") + "," +
                             browser.find_element(By.ID, "position").get_attribute("data-lon"))
            time.sleep(0.2)
        def late(samples, tolerance):
            behind = []
            for t, v in samples:
                window = [s for at, s, _, _ in api if t - 1.0 <= at <= t + 0.3 and s is not None]
                if window and not (min(window) - tolerance <= v <= max(window) + tolerance):
                    behind.append((round(t - start, 2), v, min(window), max(window)))
            return behind
        assert len(tiles) > 30 and not late(tiles, 0.051), late(tiles, 0.051)[:5]
        # The table (polled twice a second, values to 3 decimals): within the same second.
        assert len(table) > 30 and not late(table, 0.0006), late(table, 0.0006)[:5]
        assert len({v for _, v in table}) > 5, "the table did not move"
        assert len({v for _, v in tiles}) > 5, "the speed tile did not move"
        assert len(set(positions)) > 5, "the position did not move"
        marker = browser.find_element(By.CSS_SELECTOR, ".leaflet-marker-icon.car")
        before = marker.get_attribute("style")
        wait_for(lambda: browser.find_element(By.CSS_SELECTOR, ".leaflet-marker-icon.car").get_attribute("style") != before, timeout=10)
        rows = browser.find_elements(By.CSS_SELECTOR, "#signals tbody tr")
        assert len(rows) == len(json.loads(g.curl("/v1/signals")[0])["signals"])
        assert "fresh" in js_text(browser, '#signals tr[data-path="Vehicle.Speed"][data-state="fresh"]')
        assert "up" in js_text(browser, "#buses tbody tr")
        browser.find_element(By.ID, "filter").send_keys("Vehicle.Speed")
        wait_for(lambda: all(r.get_attribute("data-path").startswith("Vehicle.Speed") for r in browser.find_elements(By.CSS_SELECTOR, "#signals tbody tr") if r.is_displayed()))
        browser.save_screenshot(str(SHOTS / "1-driving.png"))
        # The tunnel: the API says the position is stale while the speed is fresh; the page says
        # so and greys the map.
        wait_for(lambda: api and api[-1][2] == "stale" and api[-1][3] == "fresh", timeout=40, step=0.1)
        wait_for(lambda: "stale" in text(browser, "position-state"), timeout=2)
        assert "stale" in browser.find_element(By.ID, "map").get_attribute("class")
        assert browser.find_elements(By.CSS_SELECTOR, ".leaflet-marker-icon.car.stale")
        browser.save_screenshot(str(SHOTS / "2-tunnel-position-stale.png"))
        # On a phone: one column, nothing wider than the screen (tables scroll in their panel).
        browser.set_window_size(390, 844)
        wait_for(lambda: browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth + 1"), timeout=5)
        browser.save_screenshot(str(SHOTS / "6-phone.png"))
        # Every control has an accessible name (a label, aria-label or its text).
        unnamed = browser.execute_script("""
            return [...document.querySelectorAll('input, select, button, a[href]')].filter(e =>
                !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.getAttribute('title') && !e.textContent.trim())
              .map(e => e.outerHTML.slice(0, 80));""")
        assert not unnamed, unnamed
        # Only the gateway's own origin was asked for anything: no tiles, no CDN.
        urls = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
        assert urls and all(u.startswith(g.url) for u in urls), [u for u in urls if not u.startswith(g.url)]
    finally:
        stop.set()
        poller.join()


def test_a_replay_that_ends_shows_its_bus_ended(gateway_factory, browser, tmp_path):
    short = tmp_path / "short.log"
    with open(DEMO_LOG) as f:
        short.write_text("".join(line for _, line in zip(range(3000), f)))
    g = gateway_factory("--replay", short, "--mapping", DEMO_MAPPING)
    browser.get(g.url + "/")
    wait_for(lambda: js_text(browser, "#buses tbody tr"), timeout=30)
    wait_for(lambda: "ended" in js_text(browser, "#buses tbody tr"), timeout=30)
    wait_for(lambda: "stale" in text(browser, "speed-state"), timeout=30)
    browser.save_screenshot(str(SHOTS / "3-bus-ended.png"))


def test_with_a_token_the_page_shows_nothing_until_it_is_given(gateway_factory, browser):
    token = "dashboard-test-token-1234"
    g = gateway_factory("--replay", DEMO_LOG, "--mapping", DEMO_MAPPING, "--token", token, "--loop", 0)
    browser.get(g.url + "/")
    wait_for(lambda: browser.find_element(By.ID, "login").is_displayed(), timeout=30)
    assert not browser.find_element(By.ID, "live").is_displayed()
    assert browser.find_element(By.ID, "speed").get_attribute("textContent") == "–"  # nothing was fetched
    browser.save_screenshot(str(SHOTS / "4-locked.png"))
    browser.find_element(By.ID, "token").send_keys("not-the-token")
    browser.find_element(By.CSS_SELECTOR, "#login-form button").click()
    wait_for(lambda: "refused" in text(browser, "login-error"), timeout=10)
    assert not browser.find_element(By.ID, "live").is_displayed()
    browser.find_element(By.ID, "token").send_keys(token)
    browser.find_element(By.CSS_SELECTOR, "#login-form button").click()
    wait_for(lambda: text(browser, "connection") == "live", timeout=30)
    wait_for(lambda: text(browser, "speed") not in ("", "–"), timeout=10)
    wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, "#signals tbody tr"), timeout=10)
    browser.save_screenshot(str(SHOTS / "5-unlocked.png"))
    # The session is an HttpOnly, SameSite=Strict cookie: the page's script cannot read it and
    # the token is nowhere in the page's URLs.
    cookie = browser.get_cookie("vg_session")
    assert cookie and cookie["httpOnly"] and cookie["sameSite"] == "Strict", cookie
    assert "vg_session" not in browser.execute_script("return document.cookie")
    urls = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert not any(token in u for u in urls)
    # The cookie reads; from another origin, or to write (MCP), it does not.
    jar = f"Cookie: vg_session={cookie['value']}"
    assert g.curl("/v1/context", "-H", jar)[1] == 200
    assert g.curl("/v1/context", "-H", jar, "-H", "Origin: http://evil.example")[1] == 401
    assert g.curl("/mcp", "-H", jar, "-X", "POST", "-H", "Content-Type: application/json", "-d", "{}")[1] == 401
    # Logging out ends the session on the gateway, not only in the browser.
    browser.find_element(By.ID, "logout").click()
    wait_for(lambda: browser.find_element(By.ID, "login").is_displayed(), timeout=10)
    assert g.curl("/v1/context", "-H", jar)[1] == 401
