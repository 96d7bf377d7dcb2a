// The committed src/gen matches protos/: regenerate with the same buf.gen.yaml into a temporary
// folder and compare file by file. On a difference run `npm run generate` and commit src/gen.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "node:test";

const PACKAGE = fileURLToPath(new URL("../../", import.meta.url));
const BIN = join(PACKAGE, "node_modules", ".bin");

function filesUnder(dir: string): Map<string, string> {
  const entries = readdirSync(dir, { recursive: true, withFileTypes: true });
  return new Map(
    entries
      .filter((entry) => entry.isFile())
      .map((entry) => join(entry.parentPath ?? entry.path, entry.name))
      .map((path) => [relative(dir, path), readFileSync(path, "utf8")]),
  );
}

test("src/gen is what `npm run generate` makes from protos/", () => {
  const out = mkdtempSync(join(tmpdir(), "matcher-node-gen-"));
  try {
    execFileSync(join(BIN, "buf"), ["generate", "-o", out], {
      cwd: PACKAGE,
      env: { ...process.env, PATH: `${BIN}${delimiter}${process.env.PATH ?? ""}` },
      stdio: ["ignore", "ignore", "inherit"],
    });
    const fresh = filesUnder(join(out, "src", "gen"));
    const committed = filesUnder(join(PACKAGE, "src", "gen"));
    const stale = [...new Set([...fresh.keys(), ...committed.keys()])]
      .filter((name) => fresh.get(name) !== committed.get(name))
      .sort();
    assert.deepEqual(stale, [], "src/gen differs from protos/: run `npm run generate` in clients/node");
    assert.ok(committed.has(join("matcher", "v1", "match_pb.ts")));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
