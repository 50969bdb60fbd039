"""record, replay, send and dump against can-utils on a real vcan bus."""
import subprocess
import time

from conftest import VG, DEMO_DBC, DEMO_LOG, Background, candump, frames_of, times_of


def test_record_equals_candump_frame_for_frame(tmp_path):
    n = 3000
    ours = tmp_path / "ours.log"
    theirs = tmp_path / "theirs.log"
    with open(theirs, "w") as out:
        dump = candump("vcan0", count=n, stdout=out)
        rec = Background([VG, "record", "vcan0", "-o", ours, "--count", n], ready="recording")
        # a mix of classic, extended, FD and remote frames, 0.2 ms apart
        subprocess.run(["cangen", "vcan0", "-n", str(n), "-g", "0.2", "-m"], check=True, timeout=120)
        rec.wait()
        dump.wait()
    ours_text, theirs_text = ours.read_text(), theirs.read_text()
    assert len(frames_of(theirs_text)) == n
    assert frames_of(ours_text) == frames_of(theirs_text)
    # the same skb carries one kernel timestamp to both sockets
    assert times_of(ours_text) == times_of(theirs_text)


def test_record_killed_keeps_every_whole_line_and_a_full_disk_is_a_clear_error(tmp_path, vg):
    """record SIGKILLed (no flush, no sync): what it had received a tenth of a second before is
    in the file, as whole lines, identical to candump's; a full disk (/dev/full) is an error
    that says so, not a crash or a silent loss."""
    n = 400
    ours, theirs = tmp_path / "ours.log", tmp_path / "theirs.log"
    with open(theirs, "w") as out:
        dump = candump("vcan0", count=n, stdout=out)
        rec = Background([VG, "record", "vcan0", "-o", ours], ready="recording")
        subprocess.run(["cangen", "vcan0", "-n", str(n), "-g", "2"], check=True, timeout=120)
        dump.wait()
        deadline = time.time() + 10  # written out within a tenth of a second (slower in the VM)
        while time.time() < deadline and ours.read_bytes().count(b"\n") < n:
            time.sleep(0.05)
        rec.proc.kill()
        rec.proc.wait()
    data = ours.read_bytes()
    assert data.endswith(b"\n"), data[-80:]
    assert frames_of(data.decode()) == frames_of(theirs.read_text())
    assert "error" not in vg("decode", "--strict", "--dbc", DEMO_DBC, ours).stderr

    full = Background([VG, "record", "vcan0", "-o", "/dev/full"], ready="recording")
    subprocess.run(["cangen", "vcan0", "-n", "50", "-g", "5"], check=True, timeout=120)
    full.wait(timeout=30)
    assert full.proc.returncode == 74
    assert "write /dev/full: No space left on device" in "".join(full.stderr_lines), full.stderr_lines


def test_replay_is_received_by_candump_identically_and_in_time(tmp_path, vg):
    log = tmp_path / "part.log"
    lines = DEMO_LOG.read_text().splitlines()[:1500]
    log.write_text("\n".join(lines) + "\n")
    got = tmp_path / "got.log"
    with open(got, "w") as out:
        dump = candump("vcan1", count=len(lines), stdout=out)
        vg("replay", log, "--to", "vcan1")
        dump.wait()
    sent = [("vcan1", f) for _, f in frames_of(log.read_text())]
    assert frames_of(got.read_text()) == sent
    want, seen = times_of(log.read_text()), times_of(got.read_text())
    span_want, span_seen = want[-1] - want[0], seen[-1] - seen[0]
    assert abs(span_seen - span_want) < 0.25 * span_want + 0.2, (span_want, span_seen)
    # every frame within 100 ms of its due time (software emulation in the VM is slow)
    lag = max(abs((s - seen[0]) - (w - want[0])) for s, w in zip(seen, want))
    assert lag < 0.1, lag


def test_replay_speed_loop_and_fast(tmp_path, vg):
    log = tmp_path / "part.log"
    log.write_text("\n".join(DEMO_LOG.read_text().splitlines()[:200]) + "\n")
    got = tmp_path / "got.log"
    with open(got, "w") as out:
        dump = candump("vcan0", count=600, stdout=out)
        vg("replay", log, "--map", "vcan0=vcan0", "--loop", "3", "--fast")
        dump.wait()
    assert len(frames_of(got.read_text())) == 600
    assert frames_of(got.read_text())[:200] == frames_of(log.read_text())


def test_canplayer_output_is_received_by_us_identically(tmp_path):
    log = tmp_path / "part.log"
    lines = DEMO_LOG.read_text().splitlines()[:1000]
    log.write_text("\n".join(lines) + "\n")
    ours = tmp_path / "ours.log"
    rec = Background([VG, "record", "vcan0", "-o", ours, "--count", len(lines)], ready="recording")
    subprocess.run(["canplayer", "-I", str(log)], check=True, timeout=120)
    rec.wait()
    assert frames_of(ours.read_text()) == frames_of(log.read_text())


def test_send_uses_cansend_syntax_including_fd(tmp_path, vg):
    got = tmp_path / "got.log"
    with open(got, "w") as out:
        dump = candump("vcan0", count=3, stdout=out)
        vg("send", "vcan0", "123#DEADBEEF")
        vg("send", "vcan0", "1ABCDEF0##1" + "11" * 12)
        vg("send", "vcan0", "321#R4")
        dump.wait()
    # kernels since 6.x add the FDF flag (4) to every FD frame: ##1 goes out, ##5 is seen
    seen = [f.replace("##5", "##1") for _, f in frames_of(got.read_text())]
    assert seen == ["123#DEADBEEF", "1ABCDEF0##1" + "11" * 12, "321#R4"]
    bad = vg("send", "vcan0", "12#00", check=None)
    assert bad.returncode == 64 and "column 1" in bad.stderr


def test_dump_decodes_live_traffic_with_the_dbc(tmp_path):
    dump = Background([VG, "dump", "vcan0", "--dbc", DEMO_DBC, "--format", "jsonl"], ready="reading")
    subprocess.run([VG, "send", "vcan0", "0D0#10270100000000F0"], check=True)
    time.sleep(0.5)
    dump.proc.terminate()
    out = dump.wait()
    assert '"message": "VehicleSpeed"' in out and '"VehicleSpeed": 100' in out


def test_controller_on_vcan_says_not_available(vg):
    out = vg("controller", "vcan0", "--bitrate", "500000", "--data-bitrate", "2000000").stdout
    assert "state: not available" in out and "set bit rate: not available" in out
    assert "set data bit rate: not available" in out


def test_dump_monitor_shows_the_latest_value_of_each_message(tmp_path):
    mon = Background([VG, "dump", "vcan0", "--dbc", DEMO_DBC, "--monitor"], ready="reading")
    for speed in ("0D0#10270100000000F0", "0D0#204E0100000000F0"):  # 100, then 200 km/h
        subprocess.run([VG, "send", "vcan0", speed], check=True)
        time.sleep(0.3)
    mon.proc.terminate()
    screens = mon.wait().split("\x1b[H\x1b[2J")
    assert "VehicleSpeed: 200 km/h" in screens[-1] and "2x" in screens[-1]
