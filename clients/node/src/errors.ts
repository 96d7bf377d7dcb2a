// MatcherCallError: a failed call read back as the status code, the message and the details the
// server attached to its google.rpc.Status (BadRequest field violations, ErrorInfo).
import { Code, ConnectError } from "@connectrpc/connect";

import { BadRequestSchema, ErrorInfoSchema } from "./gen/google/rpc/error_details_pb.js";

/** One bad field of a request: its proto path with indices and what is wrong with it. */
export interface FieldViolation {
  /** For example `requests[0].location.lat`. */
  readonly field: string;
  /** For example `must be a finite number in [-90, 90]`. */
  readonly description: string;
}

/** A call that failed: the gRPC status `code`, the server's `message`, every field violation
 * of an INVALID_ARGUMENT, and the ErrorInfo `reason` and `errorMetadata` (for example
 * `LIMIT_EXCEEDED` with `limit`, `allowed` and `actual`). */
export class MatcherCallError extends Error {
  readonly code: Code;
  readonly fieldViolations: readonly FieldViolation[];
  readonly reason: string;
  readonly errorMetadata: Readonly<Record<string, string>>;

  constructor(
    code: Code,
    message: string,
    fieldViolations: readonly FieldViolation[] = [],
    reason = "",
    errorMetadata: Record<string, string> = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "MatcherCallError";
    this.code = code;
    this.fieldViolations = fieldViolations;
    this.reason = reason;
    this.errorMetadata = errorMetadata;
  }

  /** The gRPC name of the code, for example `INVALID_ARGUMENT`. */
  get codeName(): string {
    if (this.code === Code.Canceled) return "CANCELLED"; // Connect spells it with one L
    return Code[this.code].replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase();
  }

  /** Read any error a call threw; anything but a ConnectError becomes UNKNOWN. */
  static from(error: unknown): MatcherCallError {
    if (error instanceof MatcherCallError) return error;
    const failure = ConnectError.from(error);
    const violations = failure
      .findDetails(BadRequestSchema)
      .flatMap((bad) => bad.fieldViolations)
      .map(({ field, description }) => ({ field, description }));
    const [info] = failure.findDetails(ErrorInfoSchema);
    return new MatcherCallError(
      failure.code,
      failure.rawMessage,
      violations,
      info?.reason ?? "",
      { ...info?.metadata },
      { cause: error },
    );
  }
}
