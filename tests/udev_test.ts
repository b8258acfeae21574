import assert from "node:assert/strict";
import { udevRules } from "../src/camera/udev.ts";
import { MODELS } from "../src/protocol/models.ts";

Deno.test("udev rules name every supported model's product id, and nothing else", () => {
  const rules = udevRules();
  const ids = [...rules.matchAll(/ATTR\{idProduct\}=="([0-9a-f]{4})"/g)].map((m) =>
    parseInt(m[1], 16)
  );
  assert.deepEqual(ids, MODELS.map((m) => m.productId));
  assert.match(
    rules,
    /ATTR\{idVendor\}=="04a9", ATTR\{idProduct\}=="306e", MODE="0660", GROUP="plugdev", TAG\+="uaccess"/,
  );
  assert.ok(rules.includes('LABEL="canon_remote_end"'));
});
