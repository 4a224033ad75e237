// A tiny REST client for the model tests.
import type { RunningModel } from "../fixtures/routeros-model/index.js";

export interface Reply {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  text: string;
}

export function client(m: RunningModel, user = "admin", password = "", timeoutMs = 5000) {
  const auth = "Basic " + Buffer.from(`${user}:${password}`).toString("base64");
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = { Authorization: auth }): Promise<Reply> => {
    const res = await fetch(m.url + "/rest" + path, {
      method,
      headers: { ...headers, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    return { status: res.status, text, body: text === "" ? undefined : JSON.parse(text) };
  };
  return {
    get: (p: string) => call("GET", p),
    put: (p: string, b: unknown) => call("PUT", p, b),
    patch: (p: string, b: unknown) => call("PATCH", p, b),
    del: (p: string) => call("DELETE", p),
    post: (p: string, b: unknown = {}) => call("POST", p, b),
    raw: call,
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until cond() holds or the time is up. */
export async function waitFor(cond: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return;
    await sleep(20);
  }
  throw new Error("waitFor: condition not met in time");
}

/** Every value of every object is a string (RouterOS REST answers only strings). */
export function allStrings(v: unknown): boolean {
  const objs = Array.isArray(v) ? v : [v];
  return objs.every((o) => o !== null && typeof o === "object" && Object.values(o as object).every((x) => typeof x === "string"));
}
