// The progress line fits the terminal: cut to its width (one column short,
// so that it never wraps), narrowing in steps; checked on the line itself and
// in a real terminal (tmux) at 60, 80 and 160 columns, where a line that
// wrapped would leave its first part behind at every redraw.
import assert from "node:assert/strict";
import { join } from "node:path";
import { TransferProgress } from "../src/cli/progress.ts";
import { hasCommand, skipWithout } from "./_support.ts";

const MAIN = new URL("../src/cli/main.ts", import.meta.url).pathname;

function progressAt(width: number, name = "IMG_0001.JPG") {
  const drawn: string[] = [];
  let t = 0;
  const p = new TransferProgress({
    write: (text) => drawn.push(text),
    enabled: true,
    files: 14,
    bytes: 776_000,
    verb: "get",
    now: () => t,
    columns: () => width,
  });
  p.startFile(name, 45_300);
  t = 500;
  p.update(20_000);
  t = 1000;
  p.update(45_300);
  return { p, drawn };
}

Deno.test("the progress line is cut to the terminal's width, narrowing step by step", () => {
  const full = progressAt(1000).p.line();
  assert.match(full, /^get \[1\/14\] IMG_0001\.JPG 100% of 45\.3 kB \| total 5% .* ETA \d:\d\d$/);
  assert.ok(full.length > 79, "the full line is longer than 80 columns: the test means something");
  for (const columns of [20, 30, 40, 50, 60, 70, 80, 100, 160]) {
    const { drawn } = progressAt(columns);
    for (const text of drawn) {
      // deno-lint-ignore no-control-regex
      const line = text.replace(/^\r/, "").replace(/\x1b\[K$/, "");
      assert.ok(line.length <= columns - 1, `${columns} columns: ${JSON.stringify(line)}`);
    }
  }
  assert.equal(progressAt(160).p.line(159), full, "room enough: all of it");
  assert.match(progressAt(80).p.line(79), /IMG_0001\.JPG 100% of 45\.3 kB .*ETA/);
  assert.match(
    progressAt(60).p.line(59),
    /^get \[1\/14\] IMG_0001\.JPG 100% of 45\.3 kB \| 5% ETA/,
  );
  const long = progressAt(40, "A_VERY_LONG_NAME_FROM_SOMEWHERE.JPG").p.line(39);
  assert.ok(long.length <= 39 && long.includes("…") && long.endsWith("45.3 kB"), long);
  const unknown = progressAt(0);
  assert.equal(unknown.drawn.at(-1), `\r${unknown.p.line()}\x1b[K`, "unknown width: not cut");
});

const noTmux = skipWithout(await hasCommand("tmux", ["-V"]), "tmux");

async function tmux(socket: string, ...args: string[]): Promise<string> {
  const out = await new Deno.Command("tmux", { args: ["-L", socket, ...args], stdin: "null" })
    .output();
  if (!out.success) {
    throw new Error(`tmux ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
  }
  return new TextDecoder().decode(out.stdout);
}

for (const columns of [60, 80, 160]) {
  Deno.test({
    name: `in a real terminal of ${columns} columns the progress line never wraps`,
    ignore: noTmux,
  }, async () => {
    const dir = await Deno.makeTempDir({ prefix: "canon-tmux-" });
    const socket = `canon-test-${Deno.pid}-${columns}`;
    const raw = join(dir, "raw.log");
    try {
      await tmux(
        socket,
        "-f",
        "/dev/null",
        "new-session",
        "-d",
        "-x",
        String(columns),
        "-y",
        "50",
        "-s",
        "t",
        "sh",
      );
      await tmux(socket, "pipe-pane", "-t", "t", "-o", `cat > '${raw}'`);
      const command = `cd '${dir}' && NO_COLOR=1 '${Deno.execPath()}' run --allow-all '${MAIN}' ` +
        `--emulate get --all --all-files -o out; echo "EXIT=$?"`;
      await tmux(socket, "send-keys", "-t", "t", command, "Enter");
      let screen = "";
      for (let i = 0; i < 600 && !/^EXIT=\d+/m.test(screen); i++) {
        await new Promise((r) => setTimeout(r, 100));
        screen = await tmux(socket, "capture-pane", "-p", "-t", "t");
      }
      assert.match(screen, /^EXIT=0$/m, screen);
      assert.match(screen, /14 files downloaded \(776 kB\)/);
      const leftovers = screen.split("\n").filter((l) => /get \[\d+\/14\]/.test(l));
      assert.deepEqual(leftovers, [], `pieces of the progress line stayed on screen:\n${screen}`);
      const bytes = new TextDecoder().decode(await Deno.readFile(raw));
      // deno-lint-ignore no-control-regex
      const draws = [...bytes.matchAll(/\r(get \[[^\r\x1b]*)\x1b\[K/g)].map((m) => m[1]);
      assert.ok(draws.length >= 14, `the progress line was drawn (${draws.length} times)`);
      for (const line of draws) {
        assert.ok(
          line.length < columns,
          `${line.length} characters at ${columns} columns: ${line}`,
        );
      }
      if (columns >= 160) assert.ok(draws.some((l) => /\/s ETA/.test(l)), "wide: the whole line");
    } finally {
      await tmux(socket, "kill-server").catch(() => {});
      await Deno.remove(dir, { recursive: true });
    }
  });
}
