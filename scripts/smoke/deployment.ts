/**
 * The deployment part of the binary smoke test: two processes (Greeter; Relay with the
 * front), one of them killed with SIGKILL, restarted by the supervisor, and called again
 * through the front.
 *
 * @module
 */

import { delay, freePorts, join, run, Running, track } from "./processes.ts";
import type { SmokeKit } from "./kit.ts";

interface ProcessStatus {
  name: string;
  state: string;
  pid?: number;
  restarts: number;
}

const COMPONENTS = new URL("./components/", import.meta.url);

/** Polls `probe` every 100 ms until it returns a value, for at most `ms`. */
async function until<T>(what: string, probe: () => Promise<T | undefined>, ms: number): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > end) {
      const why = last instanceof Error ? `: ${last.message}` : "";
      throw new Error(`timed out after ${ms} ms waiting for ${what}${why}`);
    }
    await delay(100);
  }
}

async function portOpen(port: number): Promise<boolean> {
  try {
    (await Deno.connect({ hostname: "127.0.0.1", port })).close();
    return true;
  } catch {
    return false;
  }
}

/** Runs the deployment checks. */
export async function checkDeployment(kit: SmokeKit): Promise<void> {
  const { program, check, call, expectEqual } = kit;
  const [greeterTcp, relayHttp, frontHttp, statusPort] = freePorts(4);
  const front = `http://127.0.0.1:${frontHttp}`;
  const dir = await Deno.makeTempDir({ prefix: "smoke-deploy-" });
  const file = join(dir, "deployment.json");
  await Deno.writeTextFile(
    file,
    JSON.stringify(
      {
        name: "smoke",
        processes: {
          greeter: {
            components: [new URL("greeter.ts", COMPONENTS).href],
            listen: [{ tcp: `127.0.0.1:${greeterTcp}` }],
            public: ["Greeter"],
          },
          relay: {
            components: [new URL("relay.ts", COMPONENTS).href],
            listen: [{ http: `127.0.0.1:${relayHttp}` }],
            public: ["Relay"],
            front: [{ http: `127.0.0.1:${frontHttp}` }],
          },
        },
        status: `127.0.0.1:${statusPort}`,
        restart: { initialDelay: 100, maxDelay: 1000, maxCrashes: 5, window: 60000 },
      },
      null,
      2,
    ),
  );
  // /status needs the run's token, which `deploy --status` reads from the operator's private
  // token file: the command under test is asked, as an operator would ask it.
  const status = async (): Promise<ProcessStatus[]> => {
    const out = await run(program, ["deploy", "--status", file, "--json"], 15_000);
    if (out.code !== 0) throw new Error(`deploy --status: exit ${out.code}: ${out.stderr}`);
    const processes = JSON.parse(out.stdout).processes as ProcessStatus[];
    for (const p of processes) if (p.pid) track(p.pid);
    return processes;
  };
  const greeterOf = async () => (await status()).find((p) => p.name === "greeter")!;

  await check("deploy --check accepts a two-process deployment", async () => {
    const out = await run(program, ["deploy", "--check", file]);
    if (out.code !== 0 || !/ok: 2 process\(es\)/.test(out.stdout)) {
      throw new Error(`exit ${out.code}: ${out.stdout}${out.stderr}`);
    }
  });

  const deployment = new Running(program, ["deploy", file]);
  try {
    let firstPid = 0;
    const up = await check("deploy starts both processes", async () => {
      const ready = (l: string) => l.includes("every process is ready") || undefined;
      await deployment.waitFor("every process ready", ready, 90_000);
      const processes = await status();
      const running = processes.filter((p) => p.state === "running" && p.pid);
      if (running.length !== 2) throw new Error(`status: ${JSON.stringify(processes)}`);
      // Without the token, /status (pids, the internal routing) stays closed.
      const bare = await fetch(`http://127.0.0.1:${statusPort}/status`, {
        signal: AbortSignal.timeout(5000),
      });
      await bare.body?.cancel();
      if (bare.status !== 401) throw new Error(`GET /status without a token: ${bare.status}`);
      firstPid = (await greeterOf()).pid!;
    });
    await check("calls through the front reach both processes", async () => {
      if (!up) throw new Error("the deployment did not start");
      const greeting = await call([front, "Relay.greet", '{"name":"cy"}']);
      expectEqual("Relay.greet", greeting, "relayed: hello cy");
      expectEqual("Greeter.pid", await call([front, "Greeter.pid"]), firstPid);
    });
    let secondPid = 0;
    const restarted = await check("a child killed with SIGKILL is restarted", async () => {
      if (!up) throw new Error("the deployment did not start");
      Deno.kill(firstPid, "SIGKILL");
      const again = await until("greeter to run again", async () => {
        const g = await greeterOf();
        return g.state === "running" && g.restarts >= 1 && g.pid && g.pid !== firstPid
          ? g
          : undefined;
      }, 30_000);
      secondPid = again.pid!;
      return `pid ${firstPid} -> ${secondPid}`;
    });
    await check("calls work again through the front after the restart", async () => {
      if (!restarted) throw new Error("no restart");
      // The front dials the new process on the next call; allow a few tries while it does.
      const greeting = await until(
        "Relay.greet",
        () => call([front, "Relay.greet", '{"name":"di"}']),
        30_000,
      );
      expectEqual("Relay.greet", greeting, "relayed: hello di");
      expectEqual("Greeter.pid", await call([front, "Greeter.pid"]), secondPid);
      expectEqual("Relay.greeterPid", await call([front, "Relay.greeterPid"]), secondPid);
    });
  } finally {
    const processes = await status().catch(() => []);
    await check("deploy stops every process on SIGTERM", async () => {
      const code = await deployment.stop(30_000);
      if (!Running.gracefulStop) {
        // SIGTERM is a hard kill on Windows: the children are killed by pid at the end.
        return `hard kill on Windows; ${processes.length} children left to kill by pid`;
      }
      if (code !== 0) throw new Error(`exit ${code}\n${deployment.tail()}`);
      for (const port of [greeterTcp, relayHttp, frontHttp]) {
        if (await portOpen(port)) throw new Error(`port ${port} still answers after the stop`);
      }
    });
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}
