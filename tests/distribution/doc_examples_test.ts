// The documentation of every entry point cannot rot: `deno doc --lint` of the entries is
// clean, and every exported function and class has an `@example` that `deno test --doc`
// runs (a `ts` block that is not `ignore`), with assertions, read from `deno doc --json`.
import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url);
const ENTRIES = ["mod.ts", "xmlrpc.ts", "tcp.ts", "amqp.ts", "server.ts", "deploy.ts", "main.ts"];

/**
 * Exports whose example cannot run under `deno test --doc`, and why. Anything else needs a
 * runnable one.
 */
const NOT_RUNNABLE: Record<string, string> = {
  AmqpTransport: "needs an AMQP broker",
  serveAmqp: "needs an AMQP broker",
};

interface DocDeclaration {
  kind: string;
  location: { filename: string; line: number };
  jsDoc?: { tags?: { kind: string; doc?: string }[] };
}

interface DocJson {
  nodes: Record<string, { symbols: { name: string; declarations: DocDeclaration[] }[] }>;
}

async function deno(args: string[]): Promise<{ success: boolean; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(120_000),
  }).output();
  const text = new TextDecoder();
  return { success: out.success, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

/** Whether one `@example` holds a block `deno test --doc` type-checks and runs. */
function runnable(example: string): boolean {
  return [...example.matchAll(/^```(.*)$/gm)].some(([, info]) => {
    const [lang, ...attributes] = info.trim().split(/\s+/);
    return /^(ts|tsx|js|jsx|typescript|javascript)$/.test(lang) && !attributes.includes("ignore");
  });
}

/** `name (file:line): problem` for each exported function or class whose example is missing. */
function problems(doc: DocJson): { checked: number; problems: string[] } {
  const found = new Set<string>();
  let checked = 0;
  for (const { symbols } of Object.values(doc.nodes)) {
    for (const { name, declarations } of symbols) {
      for (const declaration of declarations) {
        if (declaration.kind !== "function" && declaration.kind !== "class") continue;
        checked++;
        const where = `${name} (${
          declaration.location.filename.slice(ROOT.href.length)
        }:${declaration.location.line})`;
        const examples = (declaration.jsDoc?.tags ?? [])
          .filter((tag) => tag.kind === "example")
          .map((tag) => tag.doc ?? "");
        if (examples.length === 0) found.add(`${where}: no @example`);
        else if (Object.hasOwn(NOT_RUNNABLE, name)) continue;
        else if (!examples.some(runnable)) {
          found.add(`${where}: its @example is not run (\`ts ignore\`)`);
        } else if (!examples.some((example) => /\bassert\b/.test(example))) {
          found.add(`${where}: its @example asserts nothing`);
        }
      }
    }
  }
  return { checked, problems: [...found].sort() };
}

Deno.test("every exported function and class of an entry has a runnable @example", async () => {
  const out = await deno(["doc", "--json", ...ENTRIES]);
  assert.ok(out.success, out.stderr);
  const { checked, problems: found } = problems(JSON.parse(out.stdout));
  assert.ok(checked > 50, `a real API: ${checked} functions and classes`);
  assert.deepEqual(found, []);
});

Deno.test("the reasons for examples that cannot run name exported symbols", async () => {
  const out = await deno(["doc", "--json", ...ENTRIES]);
  assert.ok(out.success, out.stderr);
  const names = new Set(
    Object.values((JSON.parse(out.stdout) as DocJson).nodes)
      .flatMap(({ symbols }) => symbols.map((s) => s.name)),
  );
  for (const name of Object.keys(NOT_RUNNABLE)) assert.ok(names.has(name), `${name} is exported`);
});

Deno.test("deno doc --lint of every entry is clean", async () => {
  const out = await deno(["doc", "--lint", ...ENTRIES]);
  assert.ok(out.success, `${out.stdout}${out.stderr}`);
});
