# Sourced by the test scripts after system-deps.sh: the real parts the tests run that the
# gateway itself does not need.
# mosquitto: the broker the uplink tests (and the static binary's check) publish to.
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || apt_install mosquitto
# Chromium and its driver: the dashboard's browser tests.
command -v chromedriver >/dev/null 2>&1 || apt_install chromium chromium-driver
