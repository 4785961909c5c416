/**
 * The JSON payloads carried inside AgentMessages (field names as the plugin's Go structs spell them).
 * Pure builders and tolerant parsers: a parser returns undefined for anything malformed.
 */

/** The SessionType the handshake asks for. Never "KMSEncryption": the plugin would call KMS. */
export const SESSION_TYPE = "Standard_Stream";

/** ActionStatus of a processed client action. */
export const ActionStatus = { success: 1, failed: 2, unsupported: 3 } as const;

export function handshakeRequestPayload(agentVersion: string): Buffer {
  return json({
    AgentVersion: agentVersion,
    RequestedClientActions: [{ ActionType: "SessionType", ActionParameters: { SessionType: SESSION_TYPE, Properties: null } }],
  });
}

/** `HandshakeTimeToComplete` is a Go time.Duration: integer nanoseconds. */
export function handshakeCompletePayload(timeToCompleteMs: number, customerMessage = ""): Buffer {
  return json({ HandshakeTimeToComplete: Math.max(0, Math.round(timeToCompleteMs * 1e6)), CustomerMessage: customerMessage });
}

export function acknowledgePayload(ack: { messageType: string; messageId: string; sequenceNumber: number }): Buffer {
  return json({
    AcknowledgedMessageType: ack.messageType,
    AcknowledgedMessageId: ack.messageId,
    AcknowledgedMessageSequenceNumber: ack.sequenceNumber,
    IsSequentialMessage: true,
  });
}

/** `CreatedDate` is a string of epoch milliseconds; an empty Output makes the plugin print "Exiting session with sessionId: …". */
export function channelClosedPayload(fields: { messageId: string; createdDate: number; sessionId: string; destinationId: string; output: string }): Buffer {
  return json({
    MessageId: fields.messageId,
    CreatedDate: String(fields.createdDate),
    DestinationId: fields.destinationId,
    SessionId: fields.sessionId,
    MessageType: "channel_closed",
    SchemaVersion: 1,
    Output: fields.output,
  });
}

export interface Acknowledgement {
  messageType: string;
  messageId: string;
  sequenceNumber: number;
}

export function parseAcknowledge(payload: Buffer): Acknowledgement | undefined {
  const v = parse(payload);
  const seq = v?.["AcknowledgedMessageSequenceNumber"];
  if (typeof seq !== "number" || !Number.isSafeInteger(seq) || seq < 0) return undefined;
  return {
    messageType: typeof v?.["AcknowledgedMessageType"] === "string" ? (v["AcknowledgedMessageType"] as string) : "",
    messageId: typeof v?.["AcknowledgedMessageId"] === "string" ? (v["AcknowledgedMessageId"] as string) : "",
    sequenceNumber: seq,
  };
}

export interface TerminalSize {
  cols: number;
  rows: number;
}

/** Sizes out of any sane range are refused (Docker rejects them too). */
export function parseSize(payload: Buffer): TerminalSize | undefined {
  const v = parse(payload);
  const cols = v?.["cols"];
  const rows = v?.["rows"];
  const ok = (n: unknown): n is number => typeof n === "number" && Number.isInteger(n) && n > 0 && n <= 10_000;
  return ok(cols) && ok(rows) ? { cols, rows } : undefined;
}

export interface HandshakeResponse {
  clientVersion: string;
  /** The SessionType action's status; undefined when the client did not report it. */
  sessionTypeStatus: number | undefined;
  errors: string[];
}

export function parseHandshakeResponse(payload: Buffer): HandshakeResponse | undefined {
  const v = parse(payload);
  if (v === undefined) return undefined;
  const actions = Array.isArray(v["ProcessedClientActions"]) ? (v["ProcessedClientActions"] as unknown[]) : [];
  const sessionType = actions.find((a): a is Record<string, unknown> => isRecord(a) && a["ActionType"] === "SessionType");
  const errors = Array.isArray(v["Errors"]) ? (v["Errors"] as unknown[]).filter((e): e is string => typeof e === "string") : [];
  const actionError = typeof sessionType?.["Error"] === "string" && sessionType["Error"] !== "" ? [sessionType["Error"]] : [];
  return {
    clientVersion: typeof v["ClientVersion"] === "string" ? v["ClientVersion"] : "",
    sessionTypeStatus: typeof sessionType?.["ActionStatus"] === "number" ? sessionType["ActionStatus"] : undefined,
    errors: [...errors, ...actionError],
  };
}

/** The first text frame on the socket (OpenDataChannel). */
export interface OpenDataChannel {
  tokenValue: string;
  clientId: string;
  clientVersion: string;
}

export function parseOpenDataChannel(text: string): OpenDataChannel | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isRecord(v) || typeof v["TokenValue"] !== "string" || v["TokenValue"] === "") return undefined;
  return {
    tokenValue: v["TokenValue"],
    clientId: typeof v["ClientId"] === "string" ? v["ClientId"] : "",
    clientVersion: typeof v["ClientVersion"] === "string" ? v["ClientVersion"] : "",
  };
}

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value), "utf8");
}

function parse(payload: Buffer): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(payload.toString("utf8"));
    return isRecord(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
