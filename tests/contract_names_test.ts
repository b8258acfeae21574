// Contract (issue 13, point 8): one name, one meaning across the package's
// five entry points. A name that two entry points export must be the same
// declaration (one file, one line), never two different things that happen
// to share a name, as the trace's CaptureFile once did beside remote capture
// or the emulator's PictureAbilities beside the client's.
import assert from "node:assert/strict";

const ROOT = new URL("..", import.meta.url);
const ENTRY_POINTS = [
  "mod.ts",
  "src/usb/mod.ts",
  "src/protocol/mod.ts",
  "src/trace/mod.ts",
  "src/emulator/mod.ts",
];

interface DocJson {
  nodes: Record<string, {
    symbols: { name: string; declarations: { location: { filename: string; line: number } }[] }[];
  }>;
}

/** Every exported name of an entry point, with where it is declared. */
async function exportsOf(entry: string): Promise<Map<string, string>> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["doc", "--json", entry],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const doc = JSON.parse(new TextDecoder().decode(out.stdout)) as DocJson;
  const names = new Map<string, string>();
  for (const node of Object.values(doc.nodes)) {
    for (const symbol of node.symbols) {
      const at = symbol.declarations
        .map(({ location }) => `${location.filename.replace(ROOT.href, "")}:${location.line}`)
        .sort()
        .join(", ");
      names.set(symbol.name, at);
    }
  }
  return names;
}

Deno.test("entry points: a name two entry points export is one declaration", async () => {
  const seen = new Map<string, { entry: string; at: string }>();
  const clashes: string[] = [];
  let total = 0;
  for (const entry of ENTRY_POINTS) {
    for (const [name, at] of await exportsOf(entry)) {
      total++;
      const earlier = seen.get(name);
      if (!earlier) seen.set(name, { entry, at });
      else if (earlier.at !== at) {
        clashes.push(`${name}: ${earlier.entry} (${earlier.at}) vs ${entry} (${at})`);
      }
    }
  }
  assert.ok(total > 100, `the entry points were read (${total} names)`);
  assert.deepEqual(clashes, []);
});

Deno.test("entry points: the trace side says Trace, the emulator keeps its own names", async () => {
  const trace = await exportsOf("src/trace/mod.ts");
  for (const name of ["TraceFile", "readTrace", "TraceFormatError", "TraceReader"]) {
    assert.ok(trace.has(name), `./trace exports ${name}`);
  }
  assert.deepEqual([...trace.keys()].filter((name) => /Capture/.test(name)), []);
  const emulator = await exportsOf("src/emulator/mod.ts");
  for (const name of ["PictureAbilities", "PictureAbility", "TRANSFER_MODE", "splitCardPath"]) {
    assert.ok(!emulator.has(name), `./emulator does not export ${name}`);
  }
});
