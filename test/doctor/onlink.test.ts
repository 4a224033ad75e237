// doctor on a hand-made on-link /64 setup (the Vultr reserved /64 recipe, reconstructed:
// its full text was not available): recognised by its elements, its traps named (a
// non-static ndppd rule, the VPS's own address in the proxied /64), and the site file it
// offers (vps.onLink, the recipe's ULA transit kept) passing lint and planning as it was.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { analyse, checkSite, parseSite } from "../../src/pipeline.js";
import { runCli, tmp } from "../helpers.js";
import { flagsOf, inputsOf, runDoctor } from "./fixtures.js";

const asWritten = () => runDoctor(inputsOf("vultr-as-written", { routeros: "routeros-7.21.rsc" }));
const fixed = () => runDoctor(inputsOf("vultr-fixed", { routeros: "routeros-7.21.rsc" }));
const codes = (r: ReturnType<typeof runDoctor>) => r.findings.map((d) => `${d.severity} ${d.code} ${d.file?.split("/").pop()}:${d.line ?? ""}`);

describe("doctor: the on-link /64 recipe", () => {
  it("recognises it by ndppd.conf, proxy_ndp, the ULA transit and wg-cloud", () => {
    const d = asWritten().findings.find((x) => x.code === "on-link-setup")!;
    expect(d.severity).toBe("info");
    for (const e of ["ndppd.conf", "proxy_ndp = 1", "fd99:9999:9999::/64", "wg-cloud"]) expect(d.message).toContain(e);
  });

  it("names its traps: the iface rule, the VPS's address inside the proxied /64 (and the connected /64 that follows)", () => {
    const c = codes(asWritten());
    expect(c).toContain("error ndppd-rule-not-static ndppd.conf:7");
    expect(c).toContain("error vps-address-proxied ip-addr.txt:5");
    expect(c).toContain("error allowed-ips-covers-prefix wg0.conf:10");
    expect(c).toContain("info proxy-ndp-unneeded sysctl.txt:3");
    expect(c).toContain("warning wg-ula-source wg0.conf:3");
  });

  it("the fixed setup has no errors; an auto rule and a proxy on wg0 are named too", () => {
    expect(fixed().findings.filter((d) => d.severity === "error")).toEqual([]);
    const variant = (edit: (s: string) => string) => {
      const inputs = inputsOf("vultr-fixed", { routeros: "routeros-7.21.rsc" });
      inputs.ndppdConf = { origin: "ndppd.conf", text: edit(inputs.ndppdConf!.text) };
      return codes(runDoctor(inputs));
    };
    expect(variant((s) => s.replace("    static", "    auto"))).toContain("error ndppd-rule-not-static ndppd.conf:7");
    expect(variant((s) => s.replace("proxy enp1s0", "proxy wg0"))).toContain("error ndppd-rule-missing ndppd.conf:3");
    expect(variant((s) => s.replace("2001:db8:77:1::/64", "2001:db8:77:2::/64"))).toContain("error ndppd-rule-missing ndppd.conf:3");
  });

  it("offers a site file: vps.onLink, the /64 as index 0, the NIC's own address, the recipe's ULA transit; it passes lint", () => {
    const site = fixed().site;
    expect(site.missing).toEqual([]);
    expect(site.site).toMatchObject({
      prefix: "2001:db8:77:1::/64",
      transit: "fd99:9999:9999::/64",
      vps: { endpoint: "198.51.100.7", nic: "enp1s0", onLink: true, upstream: { address: "2001:db8:77::a/64" } },
      router: { platform: "routeros", version: "7.21.2", bridge: "bridge", tunnelInterface: "wg-cloud" },
      segments: [{ name: "lan", index: "0x0", interface: "bridge" }],
    });
    const loaded = parseSite(site.yaml!, "doctor.yaml");
    expect(checkSite(loaded.site, loaded.file, loaded.locate).filter((d) => d.severity === "error")).toEqual([]);
    const { plan } = analyse(loaded);
    expect(plan!.transit).toMatchObject({ kind: "ula", vps: { address: "fd99:9999:9999::1" }, router: { address: "fd99:9999:9999::2" } });
    expect(plan!.vps.ndp).toEqual({ rules: ["2001:db8:77:1::/64"] });
  });

  it("the CLI: exit 1 on the traps, --write-site writes a file that lints", async () => {
    const r = await runCli("doctor", ...flagsOf("vultr-as-written", { routeros: "routeros-7.21.rsc" }));
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("ndppd-rule-not-static");
    const out = join(tmp(), "vultr.yaml");
    const w = await runCli("doctor", ...flagsOf("vultr-fixed", { routeros: "routeros-7.21.rsc" }), "--write-site", out);
    expect(w.code, w.stdout + w.stderr).toBe(0);
    expect((await runCli("lint", out)).code).toBe(0);
  });

  it("a routed /48 setup shows none of it: no on-link checks run or are listed as skipped", () => {
    const r = runDoctor(inputsOf("recipe-as-written"));
    const all = [...r.findings.map((d) => d.code), ...r.skipped.flatMap((s) => s.codes)];
    for (const c of ["on-link-setup", "ndppd-rule-not-static", "ndppd-rule-missing", "proxy-ndp-unneeded", "vps-address-proxied"]) expect(all).not.toContain(c);
    expect(r.site.site?.vps).not.toHaveProperty("onLink");
  });
});
