import type { Target } from "../../render/types.js";

export const vpsTarget: Target = {
  id: "vps",
  role: "vps",
  check: () => [],
  render: () => [],
};
