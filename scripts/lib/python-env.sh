# Sourced by scripts: makes .venv-test with the test-only Python tools and puts it first on PATH.
venv_dir="${VG_VENV:-$PWD/.venv-test}"
if [ ! -x "$venv_dir/bin/python" ]; then
    if ! python3 -m venv "$venv_dir" 2>/dev/null; then
        echo "== installing python3-venv (apt)" >&2
        rm -rf "$venv_dir"
        (apt-get install -y --no-install-recommends python3-venv python3-pip >/dev/null 2>&1 ||
            { apt-get update >/dev/null && apt-get install -y --no-install-recommends python3-venv python3-pip >/dev/null; })
        python3 -m venv "$venv_dir"
    fi
fi
if ! cmp -s Tests/requirements.txt "$venv_dir/.requirements" 2>/dev/null; then
    echo "== installing test tools into $venv_dir" >&2
    "$venv_dir/bin/pip" install --quiet --disable-pip-version-check -r Tests/requirements.txt
    cp Tests/requirements.txt "$venv_dir/.requirements"
fi
export PATH="$venv_dir/bin:$PATH"
