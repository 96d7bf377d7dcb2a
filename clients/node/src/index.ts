// @volunteer-matcher/client: a typed client for the volunteer matcher's gRPC API.
//
//   import { MatcherClient, Urgency } from "@volunteer-matcher/client";
//   const client = await MatcherClient.connect("127.0.0.1:50051");
//   const reply = await client.match({ requests: [...], volunteers: [...] });
//   client.close();
//
// Message types, schemas and enums are generated from protos/matcher/v1 by protoc-gen-es
// (src/gen, `npm run generate`); requests are plain objects typed by their schema.
export {
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_TIMEOUT_MS,
  KEEPALIVE_INTERVAL_MS,
  MatcherClient,
  type ConnectOptions,
  type MatchRequestInit,
  type MatcherClientOptions,
  type SubmitOrderRequestInit,
  type TlsOptions,
} from "./client.js";
export { MatcherCallError, type FieldViolation } from "./errors.js";
export { HealthCheckResponse_ServingStatus as ServingStatus } from "./gen/health/v1/health_pb.js";
export * from "./gen/matcher/v1/match_pb.js";
export * from "./gen/matcher/v1/orders_pb.js";
export * from "./gen/matcher/v1/status_pb.js";
export * from "./gen/matcher/v1/timebank_pb.js";
export * from "./gen/matcher/v1/volunteers_pb.js";
export { Code } from "@connectrpc/connect";
export { create, toJson, toJsonString } from "@bufbuild/protobuf";
export { timestampDate, timestampFromDate } from "@bufbuild/protobuf/wkt";
