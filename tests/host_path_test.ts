// The host path helpers give what node:path gives, for POSIX and Windows
// paths alike (checked against node:path's posix and win32 on generated
// paths), and importing them loads no Node compatibility module.
import assert from "node:assert/strict";
import path from "node:path";
import fc from "fast-check";
import { posixPaths, windowsPaths } from "../src/camera/host_path.ts";

const segment = fc.constantFrom("a", "b", "IMG_0001.JPG", ".", "..", "", "DCIM");

function pathFrom(seps: string[], roots: string[]) {
  return fc.tuple(
    fc.constantFrom("", ...seps, ...roots),
    fc.array(fc.tuple(segment, fc.constantFrom(...seps, seps[0] + seps[0])), { maxLength: 5 }),
    segment,
  ).map(([root, parts, last]) => root + parts.map(([s, sep]) => s + sep).join("") + last);
}

for (
  const [name, ours, theirs, seps, roots] of [
    ["posix", posixPaths, path.posix, ["/"], []],
    ["win32", windowsPaths, path.win32, ["\\", "/"], ["C:", "C:\\", "d:/"]],
  ] as const
) {
  Deno.test(`host paths (${name}): join, basename, dirname as node:path`, () => {
    const p = pathFrom([...seps], [...roots]);
    fc.assert(
      fc.property(p, (x) => {
        if (name === "win32") fc.pre(!/^[\\/]{2}/.test(x)); // UNC roots are not special here
        assert.equal(ours.basename(x), theirs.basename(x), `basename(${JSON.stringify(x)})`);
        assert.equal(ours.dirname(x), theirs.dirname(x), `dirname(${JSON.stringify(x)})`);
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.array(p, { maxLength: 4 }), (parts) => {
        if (name === "win32") {
          fc.pre(!/^[\\/]{2}/.test(parts.filter(Boolean).join("\\")));
          fc.pre(parts.slice(1).every((part) => !/^[A-Za-z]:/.test(part))); // a drive only first
        }
        assert.equal(ours.join(...parts), theirs.join(...parts), `join(${JSON.stringify(parts)})`);
      }),
      { numRuns: 2000 },
    );
  });
}

Deno.test("host paths (posix): relative as node:path", () => {
  const abs = fc.array(fc.constantFrom("a", "b", "c", "..", "."), { maxLength: 5 })
    .map((s) => "/" + s.join("/"));
  fc.assert(
    fc.property(abs, abs, (from, to) => {
      assert.equal(posixPaths.relative(from, to), path.posix.relative(from, to), `${from} ${to}`);
    }),
    { numRuns: 2000 },
  );
  assert.equal(posixPaths.relative(".", "x/y"), path.posix.relative(".", "x/y"));
  assert.equal(windowsPaths.relative("C:\\a\\b", "c:\\a\\c\\d"), "..\\c\\d");
});

Deno.test("the host path helpers import no node: module", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", new URL("../src/camera/host_path.ts", import.meta.url).href],
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  const graph = JSON.parse(new TextDecoder().decode(out.stdout));
  const specifiers: string[] = graph.modules.map((m: { specifier: string }) => m.specifier);
  assert.deepEqual(specifiers.filter((s) => !s.startsWith("file:")), []);
  assert.equal(specifiers.length, 1);
});
