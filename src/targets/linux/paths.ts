// Where the linux target's files go in the render output (router/...): render writes them
// there, apply and the lab read them from there.
export const LINUX_PATHS = {
  setup: "router/setup.sh",
  undo: "router/undo.sh",
  smoke: "router/smoke-test.sh",
  wgConf: (wg: string) => `router/files/etc/wireguard/${wg}.conf`,
  wgKey: (wg: string) => `router/secrets/${wg}.key`,
  radvd: "router/files/etc/radvd.conf",
  frr: "router/files/etc/frr/frr.conf",
  frrDaemons: "router/files/etc/relay6/frr-daemons",
  sysctl: "router/files/etc/sysctl.d/99-relay6.conf",
  net: "router/files/usr/local/sbin/relay6-router-net",
  netUnit: "router/files/etc/systemd/system/relay6-router-net.service",
  gwCheck: "router/files/usr/local/sbin/relay6-gw-check",
  gwCheckUnit: "router/files/etc/systemd/system/relay6-gw-check.service",
  raDrain: "router/files/usr/local/sbin/relay6-ra-drain",
  raDrainUnit: "router/files/etc/systemd/system/relay6-ra-drain.service",
  radvdDropIn: "router/files/etc/systemd/system/radvd.service.d/relay6.conf",
} as const;
