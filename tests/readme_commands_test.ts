// Tier 5: every command line printed in README.md and in `canon --help` /
// `canon COMMAND --help`, found there by this test (not copied into it), run
// as printed against the virtual camera, with exit status and output checked.
//
// They run in a scratch project: a directory with the repository's deno.json
// and symlinks to its src/, examples/, ffi/, mod.ts and run.sh, so that
// `deno task canon -- ... -o photos` (deno task runs in the config file's
// directory) writes there and not into the repository; `canon` on PATH is
// `deno run --allow-all src/cli/main.ts`; HOME is the scratch directory.
// Lines that need a real camera, root or the network are run with the
// substitutions listed in SUBSTITUTED (each says why); a few are not run at
// all (NOT_RUN, with the reason); the test fails on a command line it finds
// that neither runs as printed nor is listed, and on a listed line that is no
// longer printed anywhere.
import assert from "node:assert/strict";
import { join } from "node:path";
import { udevRules } from "../src/camera/udev.ts";
import { commandHelp, commandTable, mainHelp } from "../src/cli/main.ts";

const COMMAND_TABLE = await commandTable();
const MAIN_HELP = await mainHelp();
import { hasCommand } from "./_support.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const README = await Deno.readTextFile(join(ROOT, "README.md"));
const decoder = new TextDecoder();

/** A command line and where it was printed. */
interface Found {
  line: string;
  where: string;
}

/** Lines of the README's ```sh blocks (comments cut) and inline command spans of its prose. */
export function readmeCommandLines(readme: string): Found[] {
  const found: Found[] = [];
  const parts = readme.split(/^\s*```.*$/m);
  for (let i = 1; i < parts.length; i += 2) {
    const opening = readme.split(/^(\s*```.*)$/m)[i * 2 - 1] ?? "";
    if (!/```sh\s*$/.test(opening)) continue;
    for (const raw of parts[i].split("\n")) {
      const line = raw.trim().replace(/\s+#\s.*$/, "");
      if (line && !line.startsWith("#")) found.push({ line, where: "README (sh block)" });
    }
  }
  const prose = parts.filter((_, i) => i % 2 === 0).join("\n");
  for (const match of prose.matchAll(/`([^`\n]+)`/g)) {
    const span = match[1];
    if (/^(deno|canon|\.\/run\.sh|gphoto2|sudo|tshark) \S/.test(span)) {
      found.push({ line: span, where: "README (text)" });
    }
  }
  return found;
}

/** Command lines in the help texts: indented lines starting with a command (comments cut). */
export function helpCommandLines(): Found[] {
  const texts: [string, string][] = [
    ["canon --help", MAIN_HELP],
    ...COMMAND_TABLE.map((c) => [`canon ${c.name} --help`, commandHelp(c)] as [string, string]),
  ];
  const found: Found[] = [];
  for (const [where, text] of texts) {
    for (const raw of text.split("\n")) {
      if (!/^\s+(canon|sudo|deno) \S/.test(raw)) continue;
      found.push({ line: raw.trim().split(/\s{2,}/)[0], where });
    }
  }
  return found;
}

/** How a line is run when not as printed: the shell text and why. */
interface Substitution {
  run: string;
  why: string;
  env?: Record<string, string>;
}

const UDEV_TARGET = "/etc/udev/rules.d/60-canon-remote.rules";

const SUBSTITUTED: Record<string, Substitution> = {
  "./run.sh TASK": { run: "./run.sh emulate -- true", why: "TASK: a real task, emulate" },
  "deno task canon -- COMMAND": {
    run: "deno task canon -- --emulate cameras --all",
    why: "COMMAND: a real command",
  },
  "gphoto2 --summary": {
    run: "deno task emulate -- gphoto2 --summary",
    why: "needs a camera: the virtual one through umockdev",
  },
  "canon COMMAND --help": {
    run: COMMAND_TABLE.map((c) => `canon ${c.name} --help >/dev/null`).join(" && ") +
      " && canon get --help",
    why: "COMMAND: every command",
  },
  "tshark -r FILE": {
    run: "canon --emulate --record rec.pcapng info >/dev/null && tshark -r rec.pcapng",
    why: "FILE: a recording of the virtual camera",
  },
  "deno task emulate --record FILE -- gphoto2 --summary": {
    run: "deno task emulate --record gp.pcapng -- gphoto2 --summary && canon decode gp.pcapng",
    why: "FILE: a file in the scratch directory (then decoded)",
  },
  "canon decode FILE": {
    run: "canon --emulate --record rec2.pcapng ls / >/dev/null && canon decode rec2.pcapng",
    why: "FILE: a recording of the virtual camera",
  },
  "deno task repl": {
    run: `echo 'await ls("/DCIM")' | deno task repl`,
    why: "interactive: one helper call on standard input; no camera on USB, so the virtual one",
  },
  "deno install --global --allow-all --name canon src/cli/main.ts": {
    run: "deno install --global --allow-all --name canon src/cli/main.ts && " +
      "./inst/bin/canon --emulate info",
    why: "installs into the scratch directory (DENO_INSTALL_ROOT), then runs it",
    env: { DENO_INSTALL_ROOT: "./inst" },
  },
  "deno run --allow-ffi --allow-read --allow-write script.ts": {
    run: "rm -rf photos && " +
      "deno task emulate -- deno run --allow-ffi --allow-read --allow-write script.ts",
    why: "script.ts: the README's example; Camera.open() needs a camera: the virtual one; " +
      "a fresh ./photos (the example downloads there and never overwrites)",
  },
  "deno task emulate [--model NAME] -- COMMAND ARGS...": {
    run: 'deno task emulate --model "PowerShot S45" -- gphoto2 --summary',
    why: "NAME, COMMAND ARGS: a model and gphoto2",
  },
  "deno task canon web": {
    run: "canon web --no-open --listen 0 > web.log 2>&1 & pid=$!; " +
      "for i in $(seq 100); do grep -q Serving web.log && break; sleep 0.1; done; " +
      "kill -INT $pid; wait $pid; cat web.log; grep -q 'at http://localhost:' web.log",
    why: "a server until Ctrl+C: started without opening a browser, on a free port, then " +
      "stopped with SIGINT once it said where it serves",
  },
  "deno task canon --emulate web": {
    run: "canon --emulate web --no-open --listen 0 > web.log 2>&1 & pid=$!; " +
      "for i in $(seq 100); do grep -q Serving web.log && break; sleep 0.1; done; " +
      "kill -INT $pid; wait $pid; cat web.log; grep -q 'at http://localhost:' web.log",
    why: "a server until Ctrl+C: started without opening a browser, on a free port, then " +
      "stopped with SIGINT once it said where it serves",
  },
  "deno run -A scripts/build_web.ts DIR": {
    run: "deno run -A scripts/build_web.ts site && test -s site/app.js && test -s site/index.html",
    why: "DIR: a folder in the scratch directory (then checked for the page and its script)",
  },
  "gphoto2 --list-files": {
    run: "deno task emulate -- gphoto2 --list-files",
    why: "needs a camera: gphoto2 against the virtual one",
  },
  "canon --emulate --card Pictures ls -R /": {
    run: "mkdir -p Pictures && cp photos/IMG_0004.JPG photos/IMG_0005.JPG Pictures/ && " +
      "canon --emulate --card Pictures ls -R /",
    why: "Pictures: a folder of the reader's JPEGs; made from two photos downloaded above",
  },
  "deno task emulate --bus-model": {
    run: "deno task emulate --bus-model -- gphoto2 --summary",
    why: "the option alone: with a command to run",
  },
  "sudo modprobe usbmon && sudo tshark -i usbmon1 -w camera.pcapng": {
    run: "canon --emulate --record camera.pcapng ls /DCIM/100CANON >/dev/null",
    why: "needs root and a camera: the same capture recorded from the virtual camera",
  },
  "deno task canon -- udev-rules | sudo tee /etc/udev/rules.d/60-canon-remote.rules": {
    run: "deno task canon -- udev-rules | tee 60-canon-remote.rules",
    why: `needs root: tee into the scratch directory instead of ${UDEV_TARGET}`,
  },
  "canon udev-rules | sudo tee /etc/udev/rules.d/60-canon-remote.rules": {
    run: "canon udev-rules | tee 60-canon-remote.rules",
    why: `needs root: tee into the scratch directory instead of ${UDEV_TARGET}`,
  },
  "deno compile --allow-ffi --allow-read --allow-write --allow-env --allow-run -o canon src/cli/main.ts":
    {
      run: "deno compile --allow-ffi --allow-read --allow-write --allow-env --allow-run " +
        "-o canon src/cli/main.ts && ./canon --emulate info",
      why: "then the program is run (deno compile downloads its runtime: needs the network)",
    },
  "deno bundle --platform deno -o canon.js src/cli/main.ts": {
    run: "deno bundle --platform deno -o canon.js src/cli/main.ts && " +
      "deno run --allow-all canon.js --emulate info",
    why: "then the bundle is run as its comment says, with --emulate",
  },
  "deno run --allow-ffi --allow-read=./photos --allow-write=./photos my_script.ts": {
    run: "rm -rf photos && deno task emulate -- deno run --allow-ffi --allow-read=./photos " +
      "--allow-write=./photos my_script.ts",
    why: "my_script.ts: the README's example (downloads into a fresh ./photos); under the emulator",
  },
};

const NOT_RUN: Record<string, string> = {
  "./run.sh test": "it runs this test suite (run.sh itself: tests/cli_run_sh_test.ts)",
  "deno task test:browser": "it runs the browser tier of this suite (tests/browser_*_test.ts)",
  "deno task bench:compare [--quick]": "minutes long, installs node-usb from npm",
  "sudo udevadm control --reload && sudo udevadm trigger": "reloads the system's udev (root)",
  "sudo apt-get install libusb-1.0-0": "installs system packages (run.sh's install path: " +
    "tests/cli_run_sh_test.ts)",
};

/** What a run must show, beyond exit status 0, for lines whose output says something. */
type Run = { code: number; out: string; err: string };
const EXPECT: [RegExp, (out: string, dir: string, run: Run) => void | Promise<void>][] = [
  [/ info$/, (out) => assert.match(out, /^Model:\s+Canon /m)],
  [/ ls -R \/DCIM$/, (out) => assert.match(out, /IMG_0001\.JPG\s+29380\s/)],
  [/get --new -o photos$/, async (out, dir) => {
    assert.match(out, /^6 files downloaded /m);
    assert.equal((await Deno.stat(join(dir, "photos", "IMG_0004.JPG"))).size, 29923);
  }],
  [/get --new -o ~\/Pictures$/, async (out, dir) => {
    assert.match(out, /files downloaded/);
    assert.ok((await Deno.stat(join(dir, "Pictures", "IMG_0005.JPG"))).isFile);
  }],
  [/capture --download/, (out) => assert.match(out, /^-> IMG_\d{4}\.JPG \(/m)],
  [/tee /, async (_, dir, run) => {
    const rules = await Deno.readTextFile(join(dir, "60-canon-remote.rules"));
    assert.ok(rules.length > 100, "the rules file is not empty");
    assert.equal(rules, udevRules());
    assert.equal(run.out, rules);
  }],
  [/canon decode camera\.pcapng$/, (out) => {
    // The README prints these two lines as what to expect.
    assert.match(out, /^--> GetDirectory \(0xb, 0x11, 0x202\) #\d+ "D:\\DCIM\\100CANON" depth 0$/m);
    assert.match(out, /^<-- GetDirectory #\d+ \d+ \(0x[0-9a-f]+\) b$/m);
  }],
  [/canon decode s\.pcapng$/, (out) => assert.match(out, /^--> IdentifyCamera /m)],
  [/gphoto2 --summary/, (out) => assert.match(out, /Model: (Canon )?\S+/)],
  [/^\.\/run\.sh demo$/, (out) => assert.match(out, /PowerShot G3/)],
  [/deno task repl/, (out) => assert.match(out, /100CANON\//)],
  [/script\.ts$/, async (out, dir) => {
    assert.match(out, /modelName: "Canon PowerShot G3"/);
    assert.match(out, /^29380\/29380$/m);
    assert.equal((await Deno.stat(join(dir, "photos", "IMG_0001.JPG"))).size, 29380);
  }],
  [/examples\/list\.ts/, (out) => assert.match(out, /IMG_0001\.JPG/)],
];

/** The README's "Use it" example, as my_script.ts and script.ts. */
function readmeExample(readme: string): string {
  const block = /## Use it\s+```ts\n([\s\S]*?)```/.exec(readme);
  assert.ok(block, "the README has its Use it example");
  return block[1];
}

async function scratchProject(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "canon-readme-" });
  for (const name of ["src", "examples", "ffi", "mod.ts", "run.sh", "scripts", "web"]) {
    await Deno.symlink(join(ROOT, name), join(dir, name));
  }
  await Deno.copyFile(join(ROOT, "deno.json"), join(dir, "deno.json"));
  await Deno.mkdir(join(dir, "bin"));
  await Deno.writeTextFile(
    join(dir, "bin", "canon"),
    `#!/bin/sh\nexec '${Deno.execPath()}' run --allow-all '${ROOT}/src/cli/main.ts' "$@"\n`,
    { mode: 0o755 },
  );
  const example = readmeExample(README);
  await Deno.writeTextFile(join(dir, "script.ts"), example);
  await Deno.writeTextFile(join(dir, "my_script.ts"), example);
  return dir;
}

async function runLine(dir: string, text: string, env: Record<string, string> = {}) {
  // A user's shell: no test-runner LD_PRELOAD, our canon and deno first on PATH.
  const { LD_PRELOAD: _, ...inherited } = Deno.env.toObject();
  const denoDir = Deno.execPath().replace(/\/[^/]+$/, "");
  const output = await new Deno.Command("bash", {
    args: ["-o", "pipefail", "-c", text],
    cwd: dir,
    clearEnv: true,
    env: {
      ...inherited,
      PATH: `${dir}/bin:${denoDir}:${inherited.PATH ?? "/usr/bin:/bin"}`,
      HOME: dir,
      NO_COLOR: "1",
      ...env,
    },
    stdin: "null",
  }).output();
  return {
    code: output.code,
    out: decoder.decode(output.stdout),
    err: decoder.decode(output.stderr),
  };
}

/** The generic substitution for a help line: `canon` → `canon --emulate`. */
function withEmulator(line: string): string {
  return line.replace(/\bcanon (?!--emulate)/g, "canon --emulate ");
}

const found = [...readmeCommandLines(README), ...helpCommandLines()];

Deno.test("the README and the help print command lines, and this test knows each", () => {
  assert.ok(found.length >= 20, `found ${found.length}`);
  assert.ok(found.some((f) => f.line === "deno task canon -- --emulate info"));
  assert.ok(found.some((f) => f.line === "canon --emulate info" && f.where === "canon --help"));
  const lines = new Set(found.map((f) => f.line));
  for (const listed of [...Object.keys(SUBSTITUTED), ...Object.keys(NOT_RUN)]) {
    assert.ok(lines.has(listed), `listed but printed nowhere any more: ${listed}`);
  }
});

const gphoto2 = await hasCommand("gphoto2", ["--version"]);
const tshark = await hasCommand("tshark", ["--version"]);

Deno.test("every command line of the README and the help runs as printed", async (t) => {
  const dir = await scratchProject();
  const substituted: string[] = [];
  const notRun: string[] = [];
  try {
    const seen = new Set<string>();
    for (const { line, where } of found) {
      if (seen.has(line)) continue;
      seen.add(line);
      if (NOT_RUN[line]) {
        notRun.push(`${line}  (${NOT_RUN[line]})`);
        continue;
      }
      let text = line;
      let env: Record<string, string> | undefined;
      const sub = SUBSTITUTED[line];
      if (sub) {
        text = sub.run;
        env = sub.env;
        substituted.push(`${line}\n    ran: ${text}\n    why: ${sub.why}`);
      } else if (where !== "README (sh block)" && /^canon /.test(line) && !/--emulate/.test(line)) {
        text = withEmulator(line);
        substituted.push(`${line}\n    ran: ${text}\n    why: needs a camera: --emulate`);
      } else {
        assert.ok(
          !/\bsudo\b|\b(TASK|COMMAND|FILE|NAME|ARGS|MODEL|DIR|PATH|CAPTURE)\b|\[[^\]]*(--|[A-Z]{2})|\.\.\./
            .test(line),
          `${where}: "${line}" needs root or has a placeholder: say how to run it`,
        );
      }
      if ((/gphoto2/.test(text) && !gphoto2) || (/tshark/.test(text) && !tshark)) {
        notRun.push(`${line}  (tool missing here)`);
        continue;
      }
      await t.step(line, async () => {
        const run = await runLine(dir, text, env);
        if (
          /deno compile/.test(text) && run.code !== 0 &&
          /dl\.deno\.land|sending request/.test(run.err)
        ) {
          notRun.push(`${line}  (no network to download deno's runtime)`);
          return;
        }
        assert.equal(run.code, 0, `${text}\n${run.out}\n${run.err}`);
        assert.ok(run.out.trim().length > 0 || run.err.trim().length > 0, "it says something");
        for (const [pattern, check] of EXPECT) {
          if (pattern.test(line) || pattern.test(text)) await check(run.out + run.err, dir, run);
        }
      });
    }
  } finally {
    console.log(`substituted:\n  ${substituted.join("\n  ")}\nnot run:\n  ${notRun.join("\n  ")}`);
    await Deno.remove(dir, { recursive: true });
  }
});
