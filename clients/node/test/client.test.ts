// The client against a real matcher over a real gRPC channel: the optimum of a small batch,
// INVALID_ARGUMENT with every bad field read from the rich status, orders, health, deadlines.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { exampleBatch } from "../examples/match.js";
import {
  Code,
  MatcherCallError,
  MatcherClient,
  OrderState,
  ServingStatus,
  Unassigned_Reason,
  Urgency,
  timestampFromDate,
  type SubmitOrderRequestInit,
} from "../src/index.js";
import { startMatcher, type MatcherProcess } from "./server.js";

/** Await `call`, which must fail with a MatcherCallError; return that error. */
async function failure(call: Promise<unknown>): Promise<MatcherCallError> {
  const error: unknown = await call.then(
    () => assert.fail("the call succeeded"),
    (thrown: unknown) => thrown,
  );
  assert.ok(error instanceof MatcherCallError, `not a MatcherCallError: ${String(error)}`);
  return error;
}

function order(key: string): SubmitOrderRequestInit {
  const start = Date.now() + 24 * 3_600_000;
  return {
    request: {
      requiredSkills: ["elderly_care"],
      location: { lat: 36.27, lon: 100.62 },
      window: { start: timestampFromDate(new Date(start)), end: timestampFromDate(new Date(start + 3_600_000)) },
      urgency: Urgency.ROUTINE,
    },
    branchId: "gonghe-1",
    resident: { residentId: "resident-7", contact: "0974-000000" },
    idempotencyKey: key,
  };
}

describe("MatcherClient against a live matcher", () => {
  let server: MatcherProcess;
  let client: MatcherClient;

  before(async () => {
    server = await startMatcher();
    client = await MatcherClient.connect(server.target, { connectTimeoutMs: 5_000 });
  });

  after(async () => {
    client?.close();
    await server?.stop();
  });

  test("Match finds the optimum, not the greedy answer", async () => {
    const reply = await client.match(exampleBatch());
    const pairs = reply.assignments.map((a) => `${a.requestId}-${a.volunteerId}`).sort();
    assert.deepEqual(pairs, ["A-Y", "B-X"]);
    assert.ok(Math.abs((reply.stats?.totalDistanceKm ?? 0) - 1.6) < 1e-3, "total travel is 1.6 km");
    assert.deepEqual(
      reply.unassigned.map((u) => [u.requestId, u.reason]),
      [["C", Unassigned_Reason.NO_SKILL]],
    );
  });

  test("bad input is INVALID_ARGUMENT naming every bad field in google.rpc.BadRequest", async () => {
    const error = await failure(
      client.match({
        requests: [{ id: "", location: { lat: 91, lon: 0 } }],
        volunteers: [{ id: "v", home: { lat: 0, lon: 200 } }],
      }),
    );
    assert.equal(error.code, Code.InvalidArgument);
    assert.equal(error.codeName, "INVALID_ARGUMENT");
    const fields = error.fieldViolations.map((v) => v.field);
    for (const bad of ["requests[0].id", "requests[0].location.lat", "volunteers[0].home.lon"]) {
      assert.ok(fields.includes(bad), `${bad} not among ${JSON.stringify(fields)}`);
    }
    assert.ok(error.fieldViolations.every((v) => v.description !== ""));
  });

  test("health answers SERVING for the server and its services, NOT_FOUND for others", async () => {
    assert.equal(await client.health(), ServingStatus.SERVING);
    assert.equal(await client.health("matcher.v1.MatchService"), ServingStatus.SERVING);
    const error = await failure(client.health("no.such.Service"));
    assert.equal(error.code, Code.NotFound);
  });

  test("SubmitOrder creates once per idempotency key and GetOrder reads it back", async () => {
    const first = await client.submitOrder(order("node-client-order-1"));
    assert.equal(first.created, true);
    const id = first.order?.orderId ?? assert.fail("no order in the reply");
    assert.equal(first.order?.state, OrderState.PENDING);
    const again = await client.submitOrder(order("node-client-order-1"));
    assert.equal(again.created, false);
    assert.equal(again.order?.orderId, id);
    const read = await client.getOrder(id);
    assert.equal(read.orderId, id);
    assert.equal(read.resident?.residentId, "resident-7");
    assert.equal((await failure(client.getOrder("no-such-order"))).code, Code.NotFound);
  });

  test("a call past its deadline fails with DEADLINE_EXCEEDED", async () => {
    const error = await failure(client.match(exampleBatch(), { timeoutMs: 1 }));
    assert.equal(error.code, Code.DeadlineExceeded);
  });
});

test("connect gives up at its deadline when nothing answers", async () => {
  const started = Date.now();
  const error = await failure(MatcherClient.connect("127.0.0.1:1", { connectTimeoutMs: 300 }));
  assert.equal(error.code, Code.DeadlineExceeded);
  assert.match(error.message, /did not answer SERVING within 300 ms/);
  assert.ok(Date.now() - started < 5_000);
});
