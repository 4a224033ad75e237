// relay6 apply router for platform: linux — the router end over SSH with the linux target.
// Placeholder until that part lands: it says so instead of doing half a job.
import type { Plan } from "../plan/plan.js";
import { UserError } from "../errors.js";

export async function applyLinuxRouter(plan: Plan): Promise<never> {
  throw new UserError(`apply router for platform linux is not available yet (site ${plan.site})`, [
    {
      code: "apply-linux-router-not-yet",
      severity: "error",
      path: "router.platform",
      message: "a linux router is applied over SSH with the linux target; that command is not written yet",
      fix: "render with `relay6 render` and run the router/ setup script on the router yourself",
    },
  ]);
}
