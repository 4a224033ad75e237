// relay6 lab up | test | failover | down: the relay in network namespaces, real daemons.
import { Command, InvalidArgumentError } from "commander";
import { EXIT, UserError } from "../../errors.js";
import { DEFAULT_LAB_NAME, checkLabName } from "../../lab/state.js";
// The lab's implementation is imported when a lab command runs, not at start-up.
const lab = {
  up: () => import("../../lab/up.js"),
  checks: () => import("../../lab/checks.js"),
  down: () => import("../../lab/down.js"),
  exec: () => import("../../lab/exec.js"),
  failover: () => import("../../lab/failover.js"),
  fallback: () => import("../../lab/fallback.js"),
};

const out = (s: string) => process.stdout.write(s.endsWith("\n") ? s : s + "\n");
const err = (s: string) => process.stderr.write(s.endsWith("\n") ? s : s + "\n");

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new InvalidArgumentError("must be a whole number from 1 to 1000");
  return n;
}

function positiveMs(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 600_000) throw new InvalidArgumentError("must be a whole number of milliseconds from 0 to 600000");
  return n;
}

function requireRoot(): void {
  if (process.getuid?.() !== 0) throw new UserError("the lab makes network namespaces and runs daemons: it needs root", [], EXIT.findings, "run it as root (sudo)");
}

const nameOption = (c: Command) =>
  c.option("--name <name>", "lab name: namespaces are r6-<name>-*; two labs with different names do not collide", DEFAULT_LAB_NAME);

export function registerLab(program: Command): void {
  const cmd = program
    .command("lab")
    .description("The relay in network namespaces with the real daemons: up, test, failover, down (root)");

  nameOption(
    cmd
      .command("up [input]")
      .description("Build the lab from a site file or a relay file (default: the bundled lab site) and wait until the relay carries traffic; a relay: one router (linux) with its clients per site")
      .option("-v, --verbose", "print every command")
      .option("--ssh", "also run sshd on the VPS and the router (for relay6 apply / verify; key and secrets in the lab dir)")
      .option("--bare-vps", "leave the VPS bare, with sshd only: `relay6 apply vps` configures it (implies --ssh)")
      .option("--no-drain", "run radvd alone, without the RA drain (the recipe's way)")
      .option("--vps-etc <dir>", "a hand-made VPS side: this etc/ tree instead of the rendered one (<VPS_PRIVKEY> and <MT_PUBKEY> in it become the lab's keys)")
      .option("--vps-firewall <script>", "with --vps-etc: the firewall commands to run on the VPS (bash), instead of the rendered firewall.sh")
      .option("--json", "print the lab's nodes, addresses and files as JSON"),
  ).action(async (site: string | undefined, o: { name: string; verbose?: boolean; ssh?: boolean; bareVps?: boolean; drain: boolean; vpsEtc?: string; vpsFirewall?: string; json?: boolean }) => {
    requireRoot();
    const { labUp, bundledSite, labSecretsFile } = await lab.up();
    (await lab.exec()).setVerbose(!!o.verbose);
    if (o.vpsFirewall && !o.vpsEtc) throw new UserError("--vps-firewall goes with --vps-etc (a hand-made VPS side)", [], EXIT.badInput, "add --vps-etc DIR, or leave --vps-firewall out");
    const r = await labUp({
      name: checkLabName(o.name),
      siteFile: site ?? bundledSite(),
      ssh: !!o.ssh,
      bareVps: !!o.bareVps,
      noDrain: !o.drain,
      ...(o.vpsEtc ? { vpsEtc: o.vpsEtc } : {}),
      ...(o.vpsFirewall ? { vpsFirewall: o.vpsFirewall } : {}),
      log: (l) => err(`lab: ${l}`),
    });
    const s = r.state;
    if (o.json) {
      out(JSON.stringify({ name: s.name, ms: r.ms, site: s.siteFile, dir: s.dir, nodes: s.nodes, addresses: s.addresses, secrets: o.ssh || o.bareVps ? labSecretsFile(s) : undefined }, null, 2));
      return;
    }
    const sites = s.sites ?? [];
    if (s.relay?.kind === "relay") out(`lab "${s.name}" is up in ${(r.ms / 1000).toFixed(1)} s: relay ${s.relay.relay}, ${sites.map((x) => `${x.site} (${x.plan.failover.mode}, ${x.clients.length} client(s))`).join(", ")}`);
    else out(`lab "${s.name}" is up in ${(r.ms / 1000).toFixed(1)} s: site ${s.plan?.site} (${s.plan?.failover.mode}), ${s.nodes?.clients.length} client(s)`);
    for (const n of [s.nodes!.inet, ...(s.nodes!.host ? [s.nodes!.host] : []), s.nodes!.vps, ...sites.flatMap((x) => [x.rtr, ...x.clients])]) out(`  ${n.role.padEnd(6)} ip netns exec ${n.ns} ...`);
    out(`  internet host ${s.addresses?.internetHost}; files and logs in ${s.dir}`);
    if (o.ssh || o.bareVps) {
      out(`  ssh: VPS ${s.addresses?.vpsUnderlay}, ${sites.map((x) => `router${sites.length > 1 ? ` of ${x.site}` : ""} ${x.underlay.address}`).join(", ")}; key ${s.dir}/ssh/id_ed25519; secrets ${labSecretsFile(s)}`);
      out(`  e.g. ip netns exec ${s.nodes!.inet.ns} relay6 apply vps ${s.siteFile} --vps-host ${s.addresses?.vpsUnderlay} -i ${s.dir}/ssh/id_ed25519 --secrets ${labSecretsFile(s)} --accept-new-host-key`);
    }
  });

  nameOption(
    cmd
      .command("test")
      .description("Check every claim about the relay against the running lab; exit 1 if one fails")
      .option("--json", "print one JSON object"),
  ).action(async (o: { name: string; json?: boolean }) => {
    requireRoot();
    const { labTest } = await lab.checks();
    const results = await labTest(checkLabName(o.name), o.json ? undefined : (r) => out(`${r.ok ? "ok  " : "FAIL"} ${r.name} (${r.ms} ms)\n     ${r.detail}`));
    const failed = results.filter((r) => !r.ok).length;
    if (o.json) out(JSON.stringify({ ok: failed === 0, results }, null, 2));
    else out(`${results.length - failed}/${results.length} checks passed`);
    if (failed > 0) throw new UserError(`${failed} lab check${failed === 1 ? "" : "s"} failed`, [], EXIT.findings, "each FAIL above names what to look at");
  });

  nameOption(
    cmd
      .command("failover")
      .description("Time failover N times: tunnel blocked → ::/0 gone (router, client), unblocked → back, VPS restart → back; a relay: --site NAME blocks only that site's tunnel and reports whether the others kept ::/0")
      .option("--runs <n>", "how many runs", positiveInt, 5)
      .option("--site <name>", "block only this site's tunnel, by its router's underlay address (required for a relay of several sites; no VPS restart)")
      .option("--fallback", "also time new connections from the (site's) clients (curl and a client without Happy Eyeballs) after the block, with and without the RA drain and the router's ICMPv6 errors")
      .option("--no-vps-restart", "skip the VPS restart in each run")
      .option("--outage-ms <ms>", "how long the tunnel stays blocked after the router's ::/0 is gone", positiveMs, 1000)
      .option("--allow-missing", "record a figure that never comes as null instead of failing (a hand-made VPS side)")
      .option("--json", 'print {"detect_ms":{min,median,max},"restore_ms","ra_drain_ms","ra_restore_ms","vps_restart_ms","runs","drain",["fallback"]} (with --site: "site", and "others_kept" for a relay)'),
  ).action(async (o: { name: string; runs: number; site?: string; fallback?: boolean; vpsRestart: boolean; outageMs: number; allowMissing?: boolean; json?: boolean }) => {
    requireRoot();
    const { labFailover } = await lab.failover();
    const name = checkLabName(o.name);
    const ms = (x: number | null) => (x === null ? "-" : `${x} ms`);
    const r = await labFailover(
      name,
      o.runs,
      o.json ? undefined : (i, x) => out(`run ${i}: detect ${ms(x.detect)}, restore ${ms(x.restore)}, client drain ${ms(x.raDrain)}, client restore ${ms(x.raRestore)}, vps restart ${ms(x.vpsRestart)}`),
      { vpsRestart: o.vpsRestart, allowMissing: !!o.allowMissing, outageMs: o.outageMs, ...(o.site === undefined ? {} : { site: o.site }) },
    );
    const fallback = o.fallback
      ? await (await lab.fallback()).labFallback(
          name,
          o.json ? undefined : (c) => out(`fallback: drain ${c.drain ? "on " : "off"}, ICMPv6 errors ${c.icmp_errors.padEnd(7)}, +${c.start_s} s, ${c.client.padEnd(10)}: ${c.ttfb_ms ? `${c.ttfb_ms.min} / ${c.ttfb_ms.median} / ${c.ttfb_ms.max} ms` : "no answer"} (${c.families.inet} IPv4, ${c.families.inet6} IPv6, ${c.failed} failed)${c.gai_order ? `, getaddrinfo ${c.gai_order.join(",")}` : ""}`),
          r.site,
        )
      : undefined;
    if (o.json) {
      out(
        JSON.stringify({
          detect_ms: r.detect_ms,
          restore_ms: r.restore_ms,
          ra_drain_ms: r.ra_drain_ms,
          ra_restore_ms: r.ra_restore_ms,
          vps_restart_ms: r.vps_restart_ms,
          runs: r.runs,
          drain: r.drain,
          ...(r.site !== undefined ? { site: r.site } : {}),
          ...(r.others_kept !== undefined ? { others_kept: r.others_kept } : {}),
          ...(fallback ? { fallback } : {}),
        }),
      );
      return;
    }
    const f = (k: "detect_ms" | "restore_ms" | "ra_drain_ms" | "ra_restore_ms" | "vps_restart_ms") => (r[k] ? `${r[k].min} / ${r[k].median} / ${r[k].max} ms` : "-");
    out(
      `${r.mode}${r.site ? ` (site ${r.site})` : ""}, ${r.runs} run(s), RA drain ${r.drain ? "on" : "off"}, min / median / max:\n  detect          ${f("detect_ms")}\n  restore         ${f("restore_ms")}\n  client drain    ${f("ra_drain_ms")}\n  client restore  ${f("ra_restore_ms")}\n  vps restart     ${f("vps_restart_ms")}`,
    );
    if (r.others_kept !== undefined) out(`  others_kept     ${r.others_kept ? "yes: every other site kept its ::/0" : "NO: another site lost its ::/0"}`);
  });

  nameOption(cmd.command("down").description("Remove everything the lab made (also after a crashed run)").option("--json", "print what was removed as JSON")).action(async (o: { name: string; json?: boolean }) => {
    requireRoot();
    const { labDown } = await lab.down();
    const r = await labDown(checkLabName(o.name));
    if (o.json) {
      out(JSON.stringify({ name: o.name, namespaces: r.namespaces, killed: r.killed }));
      return;
    }
    out(r.namespaces.length > 0 ? `lab "${o.name}" removed: ${r.namespaces.join(" ")}` : `no lab "${o.name}" was there; nothing left behind`);
  });
}
