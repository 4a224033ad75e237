// What the pure core knows about a router platform. The targets declare it (src/targets/),
// the registry gathers it, and src/pipeline.ts hands the list down to the schema, the plan
// and lint: nothing below the pipeline names a platform.

export interface RouterPlatform {
  /** The value of `router.platform` in the site file, e.g. "routeros". */
  id: string;
  /** `router.tunnelInterface` when the site file leaves it out. */
  tunnelInterface: string;
  /** The SSH user relay6 logs in as on such a router when no --router-user is given. */
  sshUser: string;
  /** The router's management service router.management.fromVps opens to the VPS's
   *  transit address: its TCP port and what it is ("REST (www-ssl)", "SSH"). A platform
   *  without it cannot open management (lint says so). */
  management?: { port: number; service: string };
  /** Set when `router.version` means something on this platform (lint warns that it is
   *  ignored where it does not). */
  version?: {
    /** What a version looks like (the schema's pattern) and, in words, for its message. */
    pattern: RegExp;
    what: string;
    /** For the schema's description: "RouterOS version (routeros only), 7.15 to 7.24". */
    describe: string;
    /** What `relay6 init` proposes. */
    example: string;
  };
}
