// MatcherClient: typed calls to the matcher's gRPC API over one HTTP/2 connection
// (Connect-ES's gRPC transport for Node), each within a deadline, failures read back as
// MatcherCallError with the server's field violations.
import type { SecureClientSessionOptions } from "node:http2";
import { setTimeout as sleep } from "node:timers/promises";

import type { DescService, MessageInitShape } from "@bufbuild/protobuf";
import {
  Code,
  createClient,
  type CallOptions,
  type Client,
  type Interceptor,
  type Transport,
} from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";

import { MatcherCallError } from "./errors.js";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "./gen/health/v1/health_pb.js";
import { MatchService, type MatchRequestSchema, type MatchResponse } from "./gen/matcher/v1/match_pb.js";
import {
  OrderService,
  type Order,
  type SubmitOrderRequestSchema,
  type SubmitOrderResponse,
} from "./gen/matcher/v1/orders_pb.js";

/** Deadline of one call unless the client or the call says otherwise, ms. */
export const DEFAULT_TIMEOUT_MS = 10_000;
/** How long `MatcherClient.connect` waits for the server to answer SERVING, ms. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** Keep-alive ping interval, ms: gRPC servers refuse pings more often than every 5 minutes. */
export const KEEPALIVE_INTERVAL_MS = 300_000;
const RETRY_PAUSE_MS = 100;

export type MatchRequestInit = MessageInitShape<typeof MatchRequestSchema>;
export type SubmitOrderRequestInit = MessageInitShape<typeof SubmitOrderRequestSchema>;

/** TLS towards a server started with MATCHER_TLS_CERT_FILE / MATCHER_TLS_KEY_FILE. */
export interface TlsOptions {
  /** PEM CA bundle that signed the server's certificate (default: the system's CAs). */
  ca?: string | Buffer;
  /** PEM client certificate and key, for a server with MATCHER_TLS_CLIENT_CA_FILE. */
  cert?: string | Buffer;
  key?: string | Buffer;
  /** Name to check the server's certificate against (default: the target's host). */
  serverName?: string;
}

export interface MatcherClientOptions {
  /** Deadline of each call, ms (a call's own `timeoutMs` overrides it); default 10 000. */
  timeoutMs?: number;
  /** Sent as `authorization: Bearer <apiKey>` with every call (servers with access control). */
  apiKey?: string;
  /** Talk TLS; plaintext when absent. */
  tls?: TlsOptions;
}

export interface ConnectOptions extends MatcherClientOptions {
  /** How long to wait for the server to answer SERVING, ms; default 10 000. */
  connectTimeoutMs?: number;
  /** The health service name to wait for; "" (the default) means the whole server. */
  readyService?: string;
}

/** One connection to a matcher at `target` ("host:port"). Close it when done. */
export class MatcherClient {
  readonly target: string;
  readonly timeoutMs: number;
  private readonly sessions: Http2SessionManager;
  private readonly transport: Transport;

  constructor(target: string, options: MatcherClientOptions = {}) {
    this.target = target;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const baseUrl = `${options.tls === undefined ? "http" : "https"}://${target}`;
    this.sessions = new Http2SessionManager(
      baseUrl,
      { pingIntervalMs: KEEPALIVE_INTERVAL_MS },
      sessionOptions(options.tls),
    );
    const interceptors = options.apiKey === undefined ? [] : [bearer(options.apiKey)];
    this.transport = createGrpcTransport({ baseUrl, sessionManager: this.sessions, interceptors });
  }

  /** A client whose server has answered SERVING, or MatcherCallError (DEADLINE_EXCEEDED when
   * it did not within `connectTimeoutMs`; at once for any answer but UNAVAILABLE). */
  static async connect(target: string, options: ConnectOptions = {}): Promise<MatcherClient> {
    const client = new MatcherClient(target, options);
    try {
      await client.waitUntilServing(
        options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
        options.readyService ?? "",
      );
    } catch (error) {
      client.close();
      throw error;
    }
    return client;
  }

  /** Solve one batch optimally (MatchService.Match). */
  match(request: MatchRequestInit, call: CallOptions = {}): Promise<MatchResponse> {
    return this.call(MatchService, call, (service, options) => service.match(request, options));
  }

  /** Place an order (OrderService.SubmitOrder); resending its idempotency key returns the
   * first order (`created` false). */
  submitOrder(request: SubmitOrderRequestInit, call: CallOptions = {}): Promise<SubmitOrderResponse> {
    return this.call(OrderService, call, (service, options) => service.submitOrder(request, options));
  }

  /** One order with its offers and history (OrderService.GetOrder); NOT_FOUND if absent. */
  async getOrder(orderId: string, call: CallOptions = {}): Promise<Order> {
    const reply = await this.call(OrderService, call, (service, options) =>
      service.getOrder({ orderId }, options),
    );
    if (reply.order === undefined) {
      throw new MatcherCallError(Code.Internal, `GetOrder(${orderId}) answered without an order`);
    }
    return reply.order;
  }

  /** The grpc.health.v1 status of `service` ("" for the whole server). */
  async health(service = "", call: CallOptions = {}): Promise<ServingStatus> {
    const reply = await this.call(Health, call, (health, options) => health.check({ service }, options));
    return reply.status;
  }

  /** Poll health until `service` answers SERVING, for at most `timeoutMs`. */
  async waitUntilServing(timeoutMs: number, service = ""): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = "no answer";
    for (let remaining = timeoutMs; remaining > 0; remaining = deadline - Date.now()) {
      try {
        const status = await this.health(service, { timeoutMs: remaining });
        if (status === ServingStatus.SERVING) return;
        last = ServingStatus[status];
      } catch (error) {
        if (!(error instanceof MatcherCallError) || !isTransient(error.code)) throw error;
        last = `${error.codeName}: ${error.message}`;
      }
      await sleep(Math.max(0, Math.min(RETRY_PAUSE_MS, deadline - Date.now())));
    }
    throw new MatcherCallError(
      Code.DeadlineExceeded,
      `${this.target} did not answer SERVING within ${timeoutMs} ms (last: ${last})`,
    );
  }

  /** A typed client for any other service of the API (VolunteerService, OfferService, ...)
   * on this connection; its calls throw ConnectError (read it with MatcherCallError.from). */
  service<T extends DescService>(desc: T): Client<T> {
    return createClient(desc, this.transport);
  }

  /** Close the connection; calls still open fail. */
  close(): void {
    this.sessions.abort();
  }

  private async call<T extends DescService, R>(
    desc: T,
    call: CallOptions,
    send: (service: Client<T>, options: CallOptions) => Promise<R>,
  ): Promise<R> {
    try {
      return await send(this.service(desc), { timeoutMs: this.timeoutMs, ...call });
    } catch (error) {
      throw MatcherCallError.from(error);
    }
  }
}

function isTransient(code: Code): boolean {
  return code === Code.Unavailable || code === Code.DeadlineExceeded;
}

function bearer(apiKey: string): Interceptor {
  return (next) => (request) => {
    request.header.set("authorization", `Bearer ${apiKey}`);
    return next(request);
  };
}

function sessionOptions(tls: TlsOptions | undefined): SecureClientSessionOptions {
  if (tls === undefined) return {};
  const { ca, cert, key, serverName } = tls;
  return { ca, cert, key, ...(serverName === undefined ? {} : { servername: serverName }) };
}
