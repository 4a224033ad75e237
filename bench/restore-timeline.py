#!/usr/bin/env python3
"""Per-restore timelines from a bench/restore-trace.sh directory.

    python3 bench/restore-timeline.py DIR [--md] [--json]
    python3 bench/restore-timeline.py --summary DIR...   # min/median/max per directory, JSON

For each run, times in ms after the unblock (the end of the iptables transaction) of:
WireGuard (first packet each way, any handshake), BFD (first packet each way and its state,
Up on each side from the daemons' logs), TCP (first SYN that crossed and who sent it, its
SYN-ACK), BGP (OPEN each way, KEEPALIVE each way, Established on each side, bird's
"Sending UPDATE", the UPDATE at the router), and the route in the router's kernel.
Also: the FRR BGP state and bird's BGP phase at the unblock, and the three waits that
make up the restore: session (unblock -> FRR Established), bird's UPDATE wait
(Established -> bird sends UPDATE) and install (UPDATE at the router -> route in kernel).
"""
import json, re, subprocess, sys
from datetime import datetime
from pathlib import Path
from statistics import median

if sys.argv[1:2] == ["--summary"]:
    # One JSON object per directory: min/median/max of the restore and of its waits, what
    # released bird's UPDATE, who opened the session, the outage (W) and the load.
    def mmm(xs, nd=None):
        xs = [x for x in xs if x is not None]
        return {"min": round(min(xs), nd), "median": round(median(xs), nd), "max": round(max(xs), nd), "n": len(xs)} if xs else None
    out = {}
    for arg in sys.argv[2:]:
        rows = json.loads(subprocess.run([sys.executable, __file__, arg, "--json"], capture_output=True, text=True, check=True).stdout)
        runs = (Path(arg) / "runs.tsv").read_text().splitlines()
        head = runs[0].split("\t")
        waits = sorted({float(dict(zip(head, r.split("\t")))["wait_s"]) for r in runs[1:]}) if "wait_s" in head else []
        count = lambda k: {str(v): sum(1 for r in rows if r.get(k) == v) for v in sorted({str(r.get(k)) for r in rows if r.get(k) is not None})}
        out[Path(arg).name] = {
            "runs": len(rows),
            "outage_s": {"min": waits[0], "max": waits[-1]} if waits else None,
            "load1": mmm([float(r["load"]) for r in rows if r.get("load") not in (None, "")], 2),
            "restore_ms": mmm([r.get("restore_ms") for r in rows]),
            "session_ms": mmm([r.get("w_session") for r in rows]),
            "bird_update_wait_ms": mmm([r.get("w_bird_update") for r in rows]),
            "install_ms": mmm([r.get("w_install") for r in rows]),
            "bfd_up_frr_ms": mmm([r.get("bfd_up_frr") for r in rows]),
            "released_by": count("released_by"),
            "session_opened_by": count("session_opened_by"),
            "frr_bgp_at_unblock": count("frr_state_at_unblock"),
        }
    cmd = "python3 bench/restore-timeline.py --summary " + " ".join(Path(a).name for a in sys.argv[2:])
    print(json.dumps({"command": cmd, "sets": out}, indent=1))
    sys.exit(0)

d = Path(sys.argv[1])
MD = "--md" in sys.argv
JS = "--json" in sys.argv

def tcpdump(f, *extra):
    p = d / f
    if not p.exists():
        return ""
    return subprocess.run(["tcpdump", "-r", str(p), "-n", "-tt", *extra], capture_output=True, text=True).stdout

def inner(f, point):
    """Packets inside the tunnel: BFD and BGP, with state/flags/messages."""
    out, cur = [], None
    for line in tcpdump(f, "-vv").splitlines():
        m = re.match(r"^(\d+\.\d+) (.*)", line)
        if m:
            if cur: out.append(cur)
            cur = {"t": float(m.group(1)), "h": m.group(2), "b": "", "at": point}
        elif cur is not None:
            cur["b"] += " " + line.strip()
    if cur: out.append(cur)
    pk = []
    for p in out:
        m = re.search(r"2001:db8:4600::(\d+)\.(\d+) > 2001:db8:4600::(\d+)\.(\d+)", p["h"])
        if not m: continue
        src = "vps" if m.group(1) == "1" else "rtr"
        e = {"t": p["t"], "at": point, "src": src, "sport": int(m.group(2)), "dport": int(m.group(4))}
        if "BFD" in p["h"]:
            st = re.search(r"State (\w+), Flags: \[([^\]]*)\]", p["b"])
            e["kind"] = "bfd"; e["state"] = st.group(1) if st else "?"; e["flags"] = st.group(2) if st else ""
        else:
            fl = re.search(r"Flags \[([^\]]*)\]", p["h"])
            e["kind"] = "tcp"; e["flags"] = fl.group(1) if fl else ""
            e["msgs"] = re.findall(r"(Open|Keepalive|Update|Notification) Message", p["b"])
        pk.append(e)
    return pk

def underlay(f, point):
    pk = []
    for line in tcpdump(f, "-x").splitlines():
        m = re.match(r"^(\d+\.\d+) IP (\S+) > (\S+): UDP", line)
        if m:
            pk.append({"t": float(m.group(1)), "src": "vps" if m.group(2).startswith("198.18.") else "rtr", "hex": "", "at": point})
        elif pk and re.match(r"^\s+0x[0-9a-f]{4}:", line):
            pk[-1]["hex"] += line.split(":", 1)[1].replace(" ", "")
    for p in pk:
        p["type"] = int(p["hex"][56:58], 16) if len(p["hex"]) >= 58 else 0
        del p["hex"]
    return pk

def logtimes(f, pat_ts):
    """(epoch, line) for each timestamped line of a daemon log (local time, as written)."""
    p = d / f
    if not p.exists():
        return []
    rows = []
    for line in p.read_text(errors="replace").splitlines():
        m = pat_ts.match(line)
        if m:
            rows.append((datetime.strptime(m.group(1), FMT[f]).timestamp(), line))
    return rows

FMT = {"vps-bird.log": "%Y-%m-%d %H:%M:%S.%f", "rtr-bgpd.log": "%Y/%m/%d %H:%M:%S.%f", "rtr-bfdd.log": "%Y/%m/%d %H:%M:%S.%f"}
bird = logtimes("vps-bird.log", re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+)"))
bgpd = logtimes("rtr-bgpd.log", re.compile(r"^(\d{4}/\d\d/\d\d \d\d:\d\d:\d\d\.\d+)"))
bfdd = logtimes("rtr-bfdd.log", re.compile(r"^(\d{4}/\d\d/\d\d \d\d:\d\d:\d\d\.\d+)"))

pk = inner("vps-wg0.pcap", "vps") + inner("rtr-wg0.pcap", "rtr")
pk.sort(key=lambda p: p["t"])
ul = underlay("vps-eth0.pcap", "vps") + underlay("rtr-wan0.pcap", "rtr")
ul.sort(key=lambda p: p["t"])

runs = []
lines = (d / "runs.tsv").read_text().splitlines()
hdr = lines[0].split("\t")
for l in lines[1:]:
    r = dict(zip(hdr, l.split("\t")))
    runs.append(r)

def first(seq, cond, lo, hi):
    for x in seq:
        if lo <= x["t"] <= hi and cond(x):
            return x
    return None

def firstlog(rows, rx, lo, hi):
    for t, line in rows:
        if lo <= t <= hi and re.search(rx, line):
            return t, line
    return None, None

def lastlog(rows, rx, before, after):
    best = (None, None)
    for t, line in rows:
        if after <= t <= before and re.search(rx, line):
            best = (t, line)
    return best

res = []
for r in runs:
    u = float(r["unblock"]); back = float(r["back"]); gone = float(r["withdrawn"]); blk = float(r["block"])
    hi = back + 0.05
    ms = lambda t: None if t is None else round((t - u) * 1000, 1)
    row = {"run": int(r["run"]), "load": r.get("load1"), "detect_ms": int(r["detect_ms"]), "restore_ms": int(r["restore_ms"])}
    # crossing = seen at the far end's capture
    wg_v2r = first(ul, lambda p: p["src"] == "vps" and p["at"] == "rtr", u - 0.05, hi)
    wg_r2v = first(pk, lambda p: p["src"] == "rtr" and p["at"] == "vps", u - 0.05, hi)
    hs = [p for p in ul if blk <= p["t"] <= hi and p["type"] in (1, 2) and p["at"] == ("rtr" if p["src"] == "vps" else "vps")]
    row["wg_v2r"] = ms(wg_v2r["t"]) if wg_v2r else None
    row["wg_r2v"] = ms(wg_r2v["t"]) if wg_r2v else None
    row["wg_handshakes"] = [f"{'init' if p['type']==1 else 'resp'} {p['src']}->{ 'rtr' if p['src']=='vps' else 'vps'} {ms(p['t'])}" for p in hs]
    b_r2v = first(pk, lambda p: p["kind"] == "bfd" and p["src"] == "rtr" and p["at"] == "vps", u - 0.05, hi)
    b_v2r = first(pk, lambda p: p["kind"] == "bfd" and p["src"] == "vps" and p["at"] == "rtr", u - 0.05, hi)
    row["bfd_frr_to_bird"] = f"{ms(b_r2v['t'])} {b_r2v['state']}" if b_r2v else None
    row["bfd_bird_to_frr"] = f"{ms(b_v2r['t'])} {b_v2r['state']}" if b_v2r else None
    t, _ = firstlog(bird, r"relay6_bfd: Session to .* changed state from \w+ to Up", gone, hi + 2)
    row["bfd_up_bird"] = ms(t)
    t, _ = firstlog(bfdd, r"state-change: .* -> up", gone, hi + 2)
    row["bfd_up_frr"] = ms(t)
    # FRR BGP state at the unblock, bird's phase
    t, line = lastlog(bgpd, r"went from \w+ to \w+", u, gone - 1)
    row["frr_state_at_unblock"] = re.search(r"went from \w+ to (\w+)", line).group(1) if line else None
    t, line = lastlog(bird, r"router_\w+: (Connecting to|Connect delayed|Started)", u, gone - 1)
    row["bird_last_connect_before"] = ms(t)
    # SYNs that crossed after the unblock
    syn = first(pk, lambda p: p["kind"] == "tcp" and p["flags"] == "S" and p["at"] != p["src"], u - 0.05, hi)
    if syn:
        row["syn"] = f"{ms(syn['t'])} {'bird' if syn['src']=='vps' else 'frr'}"
        sa = first(pk, lambda p: p["kind"] == "tcp" and p["flags"] == "S." and p["at"] != p["src"] and p["dport"] == syn["sport"], syn["t"], hi)
        row["synack"] = ms(sa["t"]) if sa else None
    else:
        row["syn"] = None; row["synack"] = None
    upd = first(pk, lambda p: p["kind"] == "tcp" and "Update" in p.get("msgs", []) and p["src"] == "vps" and p["at"] == "rtr", u - 0.05, hi)
    row["update_at_rtr"] = ms(upd["t"]) if upd else None
    if upd:
        port = upd["dport"] if upd["sport"] == 179 else upd["sport"]
        conn = [p for p in pk if p["kind"] == "tcp" and port in (p["sport"], p["dport"]) and u - 1 <= p["t"] <= hi and p["at"] != p["src"]]
        op = {s: next((p for p in conn if "Open" in p["msgs"] and p["src"] == s), None) for s in ("vps", "rtr")}
        ka = {s: next((p for p in conn if "Keepalive" in p["msgs"] and p["src"] == s), None) for s in ("vps", "rtr")}
        s0 = next((p for p in conn if p["flags"] == "S"), None)
        row["session_opened_by"] = ("bird" if s0["src"] == "vps" else "frr") if s0 else None
        row["session_syn"] = ms(s0["t"]) if s0 else None
        row["open_bird_to_frr"] = ms(op["vps"]["t"]) if op["vps"] else None
        row["open_frr_to_bird"] = ms(op["rtr"]["t"]) if op["rtr"] else None
        row["ka_bird_to_frr"] = ms(ka["vps"]["t"]) if ka["vps"] else None
        row["ka_frr_to_bird"] = ms(ka["rtr"]["t"]) if ka["rtr"] else None
    t, _ = firstlog(bird, r"router_\w+: BGP session established", u - 0.05, hi)
    row["est_bird"] = ms(t)
    t, _ = firstlog(bgpd, r"went from OpenConfirm to Established", u - 0.05, hi)
    row["est_frr"] = ms(t)
    t, _ = firstlog(bird, r"router_\w+\.ipv6 < added ::/0", u - 0.05, hi)
    row["bird_export"] = ms(t)
    t, _ = firstlog(bird, r"router_\w+: Sending UPDATE", u - 0.05, hi)
    row["bird_sending_update"] = ms(t)
    row["route"] = ms(back)
    # what let bird send its UPDATE (bird 2.0.12 sends it only at the next main-loop wake-up)
    row["released_by"] = None
    if row["bird_sending_update"] is not None and row["bird_export"] is not None:
        ts = u + row["bird_sending_update"] / 1000
        wait = row["bird_sending_update"] - row["bird_export"]
        scan, _ = firstlog(bird, r"device\d*: Scanning interfaces", ts, ts + 0.003)
        got, _ = firstlog(bird, r"router_\w+: Got UPDATE", ts - 0.003, ts)
        bup = row["bfd_up_bird"]
        if wait < 10: row["released_by"] = "at once"
        elif bup is not None and row["est_bird"] is not None and bup > row["est_bird"] and abs(row["bird_sending_update"] - bup) < 5: row["released_by"] = "BFD Up"
        elif got is not None: row["released_by"] = "FRR UPDATE"
        elif scan is not None: row["released_by"] = "scan tick"
        else: row["released_by"] = "other"
    # the waits
    est = row["est_frr"]
    row["w_session"] = est
    row["w_bird_update"] = round(row["bird_sending_update"] - row["bird_export"], 1) if row["bird_sending_update"] is not None and row["bird_export"] is not None else None
    row["w_install"] = round(row["route"] - row["update_at_rtr"], 1) if row["update_at_rtr"] is not None else None
    res.append(row)

if JS:
    print(json.dumps(res, indent=1))
    sys.exit(0)

cols = [("run", "run"), ("load", "load"), ("detect_ms", "detect"), ("frr_state_at_unblock", "FRR BGP @unblock"),
        ("wg_v2r", "WG v→r"), ("wg_r2v", "WG r→v"), ("bfd_bird_to_frr", "BFD bird→FRR"), ("bfd_frr_to_bird", "BFD FRR→bird"),
        ("bfd_up_bird", "BFD Up bird"), ("bfd_up_frr", "BFD Up FRR"), ("session_syn", "SYN"), ("session_opened_by", "by"),
        ("synack", "SYN-ACK"), ("open_frr_to_bird", "OPEN F→b"), ("open_bird_to_frr", "OPEN b→F"), ("ka_bird_to_frr", "KA b→F"),
        ("est_bird", "Est bird"), ("est_frr", "Est FRR"), ("bird_sending_update", "bird UPDATE"), ("update_at_rtr", "UPDATE @rtr"),
        ("route", "route"), ("w_bird_update", "bird wait"), ("released_by", "released by"), ("w_install", "install")]
def fmt(v):
    if v is None: return "–"
    if isinstance(v, float): return f"{v:.0f}"
    return str(v)
if MD:
    print("| " + " | ".join(c[1] for c in cols) + " |")
    print("|" + "---|" * len(cols))
    for row in res:
        print("| " + " | ".join(fmt(row.get(c[0])) for c in cols) + " |")
else:
    print("\t".join(c[1] for c in cols))
    for row in res:
        print("\t".join(fmt(row.get(c[0])) for c in cols))
hs = [f"run {row['run']}: {h}" for row in res for h in row["wg_handshakes"]]
print(f"\nWireGuard handshake packets seen at the far end's NIC between block and route (ms after unblock; before the unblock the VPS drops them): {len(hs)} {hs[:8]}")
def st(key):
    xs = [row[key] for row in res if row.get(key) is not None]
    return f"{min(xs):.0f} / {median(xs):.0f} / {max(xs):.0f} (n={len(xs)})" if xs else "–"
for k, label in (("restore_ms", "restore (unblock → route)"), ("w_session", "session (unblock → FRR Established)"),
                 ("w_bird_update", "bird UPDATE wait (export → Sending UPDATE)"), ("w_install", "install (UPDATE at router → kernel)"),
                 ("bfd_up_frr", "BFD Up on FRR"), ("bfd_up_bird", "BFD Up on bird")):
    print(f"{label}: min/median/max {st(k)}")
by = {}
for row in res:
    by.setdefault(row.get("session_opened_by"), []).append(row["restore_ms"])
rel = {}
for row in res:
    rel[row.get("released_by")] = rel.get(row.get("released_by"), 0) + 1
print("bird's UPDATE released by: " + ", ".join(f"{k}: {v}" for k, v in rel.items()))
print("session opened by: " + ", ".join(f"{k}: {len(v)} (restore median {median(v):.0f})" for k, v in by.items()))
