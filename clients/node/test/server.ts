// A real matcher for the tests: `python -m matcher.cli serve` in a child process on a free
// port, with an in-memory store, stopped with SIGTERM (a graceful drain) after the tests.
//
// Python is MATCHER_PYTHON if set, else the repository's .venv/bin/python (made by the
// README's test command), else python3 (which must then have the matcher installed).
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { once } from "node:events";

import { MatcherClient, type ConnectOptions } from "../src/index.js";

/** The repository root (this file runs from clients/node/dist/test). */
export const ROOT = fileURLToPath(new URL("../../../../", import.meta.url));
/** The service whose health says the server is ready (its store answers). */
const READY_SERVICE = "matcher.v1.OrderService";
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 20_000;

export interface MatcherProcess {
  readonly target: string;
  /** SIGTERM, wait for the exit (SIGKILL after 20 s); resolves to what it logged. */
  stop(): Promise<string>;
}

export function pythonCommand(): string {
  const venv = `${ROOT}.venv/bin/python`;
  return process.env.MATCHER_PYTHON ?? (existsSync(venv) ? venv : "python3");
}

async function freePort(): Promise<number> {
  const probe = createServer();
  probe.listen(0, "127.0.0.1");
  await once(probe, "listening");
  const address = probe.address();
  probe.close();
  if (address === null || typeof address === "string") throw new Error("no TCP port");
  return address.port;
}

/** Start a matcher configured by `env` (MATCHER_* variables; inherited ones are dropped) and
 * wait until it answers SERVING; `connect` says how to reach it (TLS, API key). */
export async function startMatcher(
  env: Record<string, string> = {},
  connect: ConnectOptions = {},
): Promise<MatcherProcess> {
  const port = await freePort();
  const inherited = Object.entries(process.env).filter(([name]) => !name.startsWith("MATCHER_"));
  const child = spawn(pythonCommand(), ["-m", "matcher.cli", "serve"], {
    cwd: ROOT,
    env: { ...Object.fromEntries(inherited), ...env, MATCHER_PORT: `${port}`, MATCHER_METRICS_PORT: "-1" },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let log = "";
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (log += chunk));
  const target = `127.0.0.1:${port}`;
  const stop = () => stopChild(child).then(() => log);
  const exited = once(child, "exit").then(([code]) => {
    throw new Error(`the matcher on ${target} exited (${String(code)}) before SERVING:\n${log}`);
  });
  const ready = MatcherClient.connect(target, {
    ...connect,
    connectTimeoutMs: START_TIMEOUT_MS,
    readyService: READY_SERVICE,
  });
  try {
    (await Promise.race([ready, exited])).close();
  } catch (error) {
    void ready.then((client) => client.close(), () => undefined);
    await stop();
    throw error;
  }
  return { target, stop };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exit = once(child, "exit");
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
  await exit;
  clearTimeout(timer);
}
