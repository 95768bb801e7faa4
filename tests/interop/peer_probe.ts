/**
 * A small local probe for the third-party programs the interop tests drive, until the
 * shared helper (tests/fixtures/peers.ts) is on main: the same names (`peers`,
 * `ignoreUnless`, `PYTHON`, `NVIM`, `RUBY`) so switching is an import change.
 *
 * Outside CI a missing program skips its tests with one printed line; under CI (`CI` set)
 * the tests run anyway and one extra failing test names what to install.
 *
 * @module
 */

/** True under CI: missing programs fail instead of skipping. */
export const CI = !!Deno.env.get("CI") && Deno.env.get("CI") !== "false";
/** Debian's python, which sees the python3-* packages (a pyenv python3 may not). */
export const PYTHON = Deno.env.get("SWITCHBOARD_PYTHON") ?? "/usr/bin/python3";
/** The Neovim binary. */
export const NVIM = Deno.env.get("SWITCHBOARD_NVIM") ?? "nvim";
/** The Ruby interpreter. */
export const RUBY = Deno.env.get("SWITCHBOARD_RUBY") ?? "ruby";

/** A program (or library) a test needs, and how to check for it. */
export interface Peer {
  /** What to install. */
  name: string;
  /** Runs the check once; undefined when it works, else why not. */
  problem(): Promise<string | undefined>;
}

function peer(name: string, cmd: string, args: string[]): Peer {
  let cached: Promise<string | undefined> | undefined;
  const run = async () => {
    try {
      const out = await new Deno.Command(cmd, {
        args,
        stdin: "null",
        stdout: "null",
        stderr: "null",
        signal: AbortSignal.timeout(20_000),
      }).output();
      return out.success ? undefined : `${cmd} ${args.join(" ")} exited ${out.code}`;
    } catch (error) {
      return `${cmd}: ${error instanceof Error ? error.message : error}`;
    }
  };
  return { name, problem: () => cached ??= run() };
}

/** The programs the interop tests drive (Debian package names). */
export const peers = {
  nvim: peer("neovim", NVIM, ["--version"]),
  pynvim: peer(`python3-pynvim (for ${PYTHON})`, PYTHON, ["-c", "import pynvim"]),
  jsonrpclib: peer(`python3-jsonrpclib-pelix (for ${PYTHON})`, PYTHON, [
    "-c",
    "import jsonrpclib",
  ]),
  pythonXmlrpc: peer(`python3 (${PYTHON})`, PYTHON, ["-c", "import xmlrpc.server"]),
  rubyXmlrpc: peer("ruby and ruby-xmlrpc", RUBY, ["-e", 'require "xmlrpc/client"']),
} as const;

const reported = new Set<string>();

/** The `ignore` flag of a test needing `needed` (see the module doc). */
export async function ignoreUnless(...needed: Peer[]): Promise<boolean> {
  const problems = await Promise.all(needed.map((p) => p.problem()));
  const missing = needed.filter((_, i) => problems[i] !== undefined);
  if (missing.length === 0) return false;
  const hint = `missing ${
    missing.map((p) => p.name).join(", ")
  } (apt-get install -y neovim python3-pynvim ruby-xmlrpc python3-jsonrpclib-pelix)`;
  const first = !reported.has(hint);
  reported.add(hint);
  if (!CI) {
    if (first) console.warn(`skipping tests: ${hint}`);
    return true;
  }
  if (first) {
    Deno.test(`peer installed: ${missing.map((p) => p.name).join(", ")}`, () => {
      throw new Error(`CI must provide the programs the tests drive: ${hint}`);
    });
  }
  return false;
}
