// Types for the untyped `ssm-session` package (a third-party client of the Session Manager data channel),
// only as far as the tests use it.
declare module "ssm-session" {
  export interface SsmSessionMessage {
    headerLength: number;
    messageType: string;
    schemaVersion: number;
    createdDate: number;
    sequenceNumber: number;
    flags: number;
    messageId: string;
    payloadDigest: string;
    payloadType: number;
    payloadLength: number;
    payload: Uint8Array;
  }
  interface SocketLike {
    send(data: string | Uint8Array): void;
  }
  export const ssm: {
    decode(buffer: ArrayBuffer | Uint8Array): SsmSessionMessage;
    init(connection: SocketLike, data: { token: string; termOptions: { cols: number; rows: number } }): void;
    sendACK(connection: SocketLike, message: SsmSessionMessage): void;
    sendText(connection: SocketLike, text: Uint8Array, sequenceNumber?: number): void;
    buildTokenMessage(token: string): string;
    buildInitMessage(options: { cols: number; rows: number }): Uint8Array;
    buildAcknowledge(messageType: string, sequenceNumber: number, messageId: string): Uint8Array;
    buildInputMessage(text: Uint8Array | string, sequenceNumber: number): Uint8Array;
  };
}
