// The examples are what a user copies: they import the package by its name
// (as deno.json maps it, and as jsr.io shows them), never the project's files.
import assert from "node:assert/strict";

Deno.test("every example imports the package by name, not by a path into the project", async () => {
  const dir = new URL("../examples/", import.meta.url);
  const seen: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (!entry.name.endsWith(".ts")) continue;
    const text = await Deno.readTextFile(new URL(entry.name, dir));
    const specifiers = [...text.matchAll(/^(?:import|export)\s[^;]*?from\s+"([^"]+)"/gms)]
      .map((m) => m[1]);
    const intoProject = specifiers.filter((s) => s.startsWith("../"));
    assert.deepEqual(intoProject, [], `${entry.name} imports ${intoProject.join(", ")}`);
    if (specifiers.some((s) => s.startsWith("@canon-remote/canon-remote"))) seen.push(entry.name);
  }
  assert.ok(seen.includes("_connect.ts") && seen.includes("demo.ts"), seen.join(" "));
});
