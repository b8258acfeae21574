// Contract: importing the library asks for no permission (issue 13, point 2).
// Every entry point of deno.json's `exports` is imported by a child process
// run with no `--allow-*` flag at all and `--no-prompt`, after it has put a
// spy on `Deno.env`: a module that reads the environment at load (which
// shows Deno's permission prompt in a terminal) is caught even when it
// swallows the refusal.
import assert from "node:assert/strict";

const root = new URL("..", import.meta.url);

Deno.test("contract: importing every entry point needs no permission and reads no environment", async () => {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", root))) as {
    exports: Record<string, string>;
  };
  const entries = Object.entries(config.exports);
  assert.ok(entries.length >= 2, "deno.json names its entry points");
  const imports = entries.map(([name, path]) =>
    `exported[${JSON.stringify(name)}] = Object.keys(await import(${
      JSON.stringify(new URL(path, root).href)
    })).length;`
  );
  const script = [
    "const touched: string[] = [];",
    "const env = Deno.env as unknown as Record<string, (...a: unknown[]) => unknown>;",
    'for (const name of ["get", "has", "toObject"]) {',
    "  const original = env[name];",
    "  env[name] = (...a: unknown[]) => {",
    '    touched.push(`Deno.env.${name}(${a.join(", ")})`);',
    "    return original.apply(Deno.env, a);",
    "  };",
    "}",
    "const exported: Record<string, number> = {};",
    ...imports,
    "console.log(JSON.stringify({ touched, exported }));",
  ].join("\n");
  const dir = await Deno.makeTempDir({ prefix: "canon-permissions-" });
  try {
    const file = `${dir}/import_all.ts`;
    await Deno.writeTextFile(file, script);
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-prompt", "--config", new URL("deno.json", root).pathname, file],
      stdout: "piped",
      stderr: "piped",
      env: { CANON_LOG: "debug", NO_COLOR: "1" },
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.deepEqual(out.code, 0, stderr);
    const result = JSON.parse(new TextDecoder().decode(out.stdout)) as {
      touched: string[];
      exported: Record<string, number>;
    };
    assert.deepEqual(result.touched, [], "no module reads the environment at import time");
    for (const [name] of entries) {
      assert.ok(result.exported[name] > 0, `${name} exports something`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
