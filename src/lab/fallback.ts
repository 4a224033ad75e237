// What a LAN client's new connections see when the tunnel dies: `relay6 lab failover
// --fallback`. For fetches started 0.1, 1, 2 and 5 s after the block, by two clients —
// curl (Happy Eyeballs, 200 ms) and a sequential client without Happy Eyeballs (python3's
// socket.create_connection, which tries getaddrinfo's addresses one after the other, 30 s
// each) — each opening 10 connections at once to a name with an A and an AAAA record (the
// internet host, in the client's /etc/hosts): the time to the first byte, the family that
// answered, and the order getaddrinfo returned. Every combination of: the RA drain on and
// off, and the router's ICMPv6 errors (destination unreachable) allowed and dropped.
import { clientDefault, drainOff, drainOn, drainRunning } from "./drain.js";
import { LabError, isRunning, sleep, waitFor } from "./exec.js";
import { blockTunnel, settled, stats, targetSite, type Stats } from "./failover.js";
import { DUAL_NAME } from "./ipv4.js";
import { daemon, nsRun } from "./nodes.js";
import { routerDefault } from "./probes.js";
import { INTERNET_ROLE } from "./topology.js";
import { labSites, requireReadyLab, saveState, type LabClient, type LabSite, type LabState } from "./state.js";

export const FALLBACK_STARTS_S = [0.1, 1, 2, 5] as const;
const CONNECTIONS = 10;
const HE_DELAY_MS = 200;
const SEQUENTIAL_TIMEOUT_S = 30;
const HTTP_PORT = 8080;

type Family = "inet" | "inet6";

export interface FallbackCase {
  drain: boolean;
  icmp_errors: "allowed" | "dropped";
  start_s: number;
  client: "curl" | "sequential";
  /** The lab node that ran it. */
  node: string;
  /** Whether the node still had an IPv6 default route when the fetches started. */
  ipv6_default_route: boolean;
  /** Time to the first byte of the connections that got one. */
  ttfb_ms: Stats | null;
  /** Which family each answered connection used. */
  families: Record<Family, number>;
  failed: number;
  /** The sequential client: the families in the order getaddrinfo returned them. */
  gai_order?: Family[];
}

export interface FallbackReport {
  name: string;
  connections: number;
  happy_eyeballs_ms: number;
  sequential_timeout_s: number;
  cases: FallbackCase[];
}

/** A tiny HTTP server on the internet host, both families on one socket. */
const SERVER = `
import http.server, socket, sys
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    def do_GET(self):
        self.send_response(200); self.send_header("Content-Length", "3"); self.end_headers(); self.wfile.write(b"ok\\n")
    def log_message(self, *a): pass
class S(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6
    daemon_threads = True
    request_queue_size = 64
    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()
S(("::", int(sys.argv[1])), H).serve_forever()
`;

/** The sequential client: N threads, each socket.create_connection over getaddrinfo's order. */
const SEQUENTIAL = `
import json, socket, sys, threading, time
name, port, n, timeout = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
fam = {socket.AF_INET: "inet", socket.AF_INET6: "inet6"}
order = [fam[a[0]] for a in socket.getaddrinfo(name, port, 0, socket.SOCK_STREAM)]
res = [None] * n
def one(i):
    t0 = time.monotonic()
    try:
        s = socket.create_connection((name, port), timeout=timeout)
        s.sendall(b"GET / HTTP/1.0\\r\\nHost: " + name.encode() + b"\\r\\n\\r\\n")
        if not s.recv(1): raise OSError("closed before the first byte")
        res[i] = {"ms": round((time.monotonic() - t0) * 1000), "family": fam[s.family]}
        s.close()
    except OSError as e:
        res[i] = {"ms": round((time.monotonic() - t0) * 1000), "error": str(e)}
ts = [threading.Thread(target=one, args=(i,)) for i in range(n)]
for t in ts: t.start()
for t in ts: t.join()
print(json.dumps({"order": order, "results": res}))
`;

const curlScript = (url: string) =>
  `for i in $(seq ${CONNECTIONS}); do curl -s -o /dev/null --max-time ${SEQUENTIAL_TIMEOUT_S + 10} --happy-eyeballs-timeout-ms ${HE_DELAY_MS} -w '%{time_starttransfer} %{remote_ip} %{exitcode}\\n' ${url} & done; wait`;

interface Outcome {
  ttfb: number[];
  families: Record<Family, number>;
  failed: number;
  order?: Family[];
}

async function runCurl(s: LabState, c: LabClient): Promise<Outcome> {
  const r = await nsRun(s, c.role, ["bash", "-c", curlScript(`http://${DUAL_NAME}:${HTTP_PORT}/`)], { timeoutMs: (SEQUENTIAL_TIMEOUT_S + 20) * 1000 });
  const out: Outcome = { ttfb: [], families: { inet: 0, inet6: 0 }, failed: 0 };
  for (const line of r.stdout.trim().split("\n").filter(Boolean)) {
    const [t, ip, code] = line.split(" ");
    if (code !== "0" || !ip) {
      out.failed++;
      continue;
    }
    out.ttfb.push(Math.round(Number(t) * 1000));
    out.families[ip.includes(":") ? "inet6" : "inet"]++;
  }
  out.failed += Math.max(0, CONNECTIONS - out.ttfb.length - out.failed);
  return out;
}

async function runSequential(s: LabState, c: LabClient): Promise<Outcome> {
  const r = await nsRun(s, c.role, ["python3", "-c", SEQUENTIAL, DUAL_NAME, String(HTTP_PORT), String(CONNECTIONS), String(SEQUENTIAL_TIMEOUT_S)], {
    timeoutMs: (3 * SEQUENTIAL_TIMEOUT_S + 20) * 1000,
  });
  let j: { order: Family[]; results: ({ ms: number; family?: Family; error?: string } | null)[] };
  try {
    j = JSON.parse(r.stdout) as typeof j;
  } catch {
    throw new LabError(`[${c.ns}] the sequential client printed no result: ${(r.stderr || r.stdout).trim().slice(0, 300)}`);
  }
  const out: Outcome = { ttfb: [], families: { inet: 0, inet6: 0 }, failed: 0, order: j.order };
  for (const x of j.results) {
    if (!x || !x.family) out.failed++;
    else {
      out.ttfb.push(x.ms);
      out.families[x.family]++;
    }
  }
  return out;
}

async function icmpErrors(s: LabState, rtr: string, drop: boolean): Promise<void> {
  const rule = ["OUTPUT", "-p", "ipv6-icmp", "--icmpv6-type", "destination-unreachable", "-j", "DROP"];
  if (drop) await nsRun(s, rtr, ["ip6tables", "-I", ...rule]);
  else while ((await nsRun(s, rtr, ["ip6tables", "-D", ...rule])).code === 0);
}

async function startServer(s: LabState): Promise<number> {
  const pid = daemon(s, INTERNET_ROLE, "http", ["python3", "-c", SERVER, String(HTTP_PORT)]);
  await waitFor(`the internet host's HTTP server on port ${HTTP_PORT}`, async () => {
    const r = await nsRun(s, INTERNET_ROLE, ["ss", "-Hltn", `sport = :${HTTP_PORT}`]);
    return r.stdout.trim() !== "" ? true : undefined;
  }, 10_000, 50);
  return pid;
}

async function stopServer(s: LabState, pid: number): Promise<void> {
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    /* gone */
  }
  for (let i = 0; i < 100 && isRunning(pid); i++) await sleep(10);
  s.daemons = s.daemons.filter((d) => d.pid !== pid);
  saveState(s);
}

/** `siteName`: in a relay of several sites, the site whose tunnel is blocked and whose
 *  clients fetch (only its tunnel is blocked, as `lab failover --site` does). */
export async function labFallback(name: string, onCase?: (c: FallbackCase) => void, siteName?: string): Promise<FallbackReport> {
  const s = requireReadyLab(name);
  const site: LabSite = targetSite(s, siteName);
  const rtr = site.rtr.role;
  const only = labSites(s).length > 1 ? site : undefined;
  const block = (on: boolean) => blockTunnel(s, on, only);
  const clients = site.clients;
  // curl on the first client, the sequential client on the second (each has its own share
  // of the router's ICMPv6 rate limit), or both on the one there is, one after the other.
  const curlNode = clients[0]!;
  const seqNode = clients[1] ?? clients[0]!;
  const hadDrain = s.drain !== false && drainRunning(s, rtr);
  const budget = site.plan.failover.mode === "static" ? 60_000 : 15_000;
  const cases: FallbackCase[] = [];
  const server = await startServer(s);
  try {
    for (const drain of hadDrain ? [true, false] : [false])
      for (const icmp of ["allowed", "dropped"] as const) {
        if (drain) await drainOn(s, site);
        else await drainOff(s, site);
        await icmpErrors(s, rtr, icmp === "dropped");
        try {
          for (const start of FALLBACK_STARTS_S) {
            const groups: [LabClient, "curl" | "sequential"][][] = seqNode === curlNode ? [[[curlNode, "curl"]], [[seqNode, "sequential"]]] : [[[curlNode, "curl"], [seqNode, "sequential"]]];
            for (const group of groups) {
              for (const [c] of group) await settled(s, site, budget, c, false);
              await block(true);
              const t0 = Date.now();
              try {
                await sleep(Math.max(0, t0 + start * 1000 - Date.now()));
                const had = await Promise.all(group.map(([c]) => clientDefault(s, c)));
                const outcomes = await Promise.all(group.map(([c, kind]) => (kind === "curl" ? runCurl(s, c) : runSequential(s, c))));
                group.forEach(([c, kind], i) => {
                  const o = outcomes[i]!;
                  const fc: FallbackCase = {
                    drain,
                    icmp_errors: icmp,
                    start_s: start,
                    client: kind,
                    node: c.role,
                    ipv6_default_route: had[i] !== null,
                    ttfb_ms: stats(o.ttfb),
                    families: o.families,
                    failed: o.failed,
                    ...(o.order ? { gai_order: o.order } : {}),
                  };
                  cases.push(fc);
                  onCase?.(fc);
                });
              } finally {
                await block(false);
              }
              await waitFor("::/0 back on the router", async () => ((await routerDefault(s, rtr)) ? true : undefined), budget, 20);
            }
          }
        } finally {
          await icmpErrors(s, rtr, false);
        }
      }
  } finally {
    if (hadDrain) await drainOn(s, site);
    await stopServer(s, server);
  }
  return { name: DUAL_NAME, connections: CONNECTIONS, happy_eyeballs_ms: HE_DELAY_MS, sequential_timeout_s: SEQUENTIAL_TIMEOUT_S, cases };
}
