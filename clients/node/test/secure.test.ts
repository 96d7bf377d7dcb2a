// The client against a matcher that serves TLS (a certificate made here with openssl) and
// requires API keys: with the CA and a key it gets answers, without the key UNAUTHENTICATED.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";

import { exampleBatch } from "../examples/match.js";
import { Code, MatcherCallError, MatcherClient, ServingStatus, type TlsOptions } from "../src/index.js";
import { startMatcher, type MatcherProcess } from "./server.js";

const TOKEN = "node-client-test-token";

/** A self-signed certificate for 127.0.0.1 in `dir`: [certificate file, key file]. */
function makeCertificate(dir: string): [string, string] {
  const cert = join(dir, "server.pem");
  const key = join(dir, "server.key");
  execFileSync(
    "openssl",
    ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
      .concat(["-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=matcher-test"])
      .concat(["-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"]),
    { stdio: "ignore" },
  );
  return [cert, key];
}

describe("MatcherClient over TLS with an API key", () => {
  let dir: string;
  let server: MatcherProcess;
  let tls: TlsOptions;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "matcher-node-tls-"));
    const [cert, key] = makeCertificate(dir);
    tls = { ca: readFileSync(cert) };
    const digest = createHash("sha256").update(TOKEN).digest("hex");
    server = await startMatcher(
      { MATCHER_TLS_CERT_FILE: cert, MATCHER_TLS_KEY_FILE: key, MATCHER_API_KEYS: `node-test:admin:${digest}` },
      { tls },
    );
  });

  after(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test("with the CA and the key, Match answers", async () => {
    const client = await MatcherClient.connect(server.target, { tls, apiKey: TOKEN });
    try {
      assert.equal(await client.health(), ServingStatus.SERVING);
      const reply = await client.match(exampleBatch());
      assert.equal(reply.assignments.length, 2);
    } finally {
      client.close();
    }
  });

  test("without the key, Match is UNAUTHENTICATED", async () => {
    const client = await MatcherClient.connect(server.target, { tls });
    try {
      const error: unknown = await client.match(exampleBatch()).catch((thrown: unknown) => thrown);
      assert.ok(error instanceof MatcherCallError);
      assert.equal(error.code, Code.Unauthenticated);
    } finally {
      client.close();
    }
  });
});
