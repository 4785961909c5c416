// Docker multiplexes a non-TTY container's output: frames of an 8-byte header (stream type, three zero
// bytes, big-endian payload size) then the payload. Chunks from the socket may split or join frames.
import type { LogChunk } from "../task-backend.ts";

export async function* demultiplex(chunks: AsyncIterable<Buffer>): AsyncIterable<LogChunk> {
  let carry: Buffer = Buffer.alloc(0);
  for await (const chunk of chunks) {
    carry = carry.length === 0 ? chunk : Buffer.concat([carry, chunk]);
    while (carry.length >= 8) {
      const size = carry.readUInt32BE(4);
      if (carry.length < 8 + size) break;
      yield { stream: carry[0] === 2 ? "stderr" : "stdout", text: carry.subarray(8, 8 + size).toString("utf8") };
      carry = carry.subarray(8 + size);
    }
  }
}
