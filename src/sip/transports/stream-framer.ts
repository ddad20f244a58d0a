/**
 * Cuts a TCP byte stream into SIP messages (RFC 3261 §18.3): the header block ends at the first empty
 * line (CRLF or bare LF), the body is Content-Length bytes (absent = 0). Handles several messages in
 * one read and one message split over many reads. Leading CRLFs are keep-alives (RFC 5626 §3.5.1).
 */
export type FrameResult =
  | { kind: 'message'; data: Buffer }
  | { kind: 'ping' }
  | { kind: 'oversize' };

const CRLFCRLF = Buffer.from('\r\n\r\n');
const LFLF = Buffer.from('\n\n');
const CONTENT_LENGTH = /^(?:content-length|l)[ \t]*:[ \t]*(\d+)[ \t]*\r?$/im;

export class StreamFramer {
  private buf: Buffer = Buffer.alloc(0);

  constructor(private readonly maxMessageBytes: number) {}

  /** Feeds a chunk; returns the complete frames it finished, in order. */
  push(chunk: Buffer): FrameResult[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: FrameResult[] = [];
    for (;;) {
      let start = 0;
      const b = this.buf;
      while (start < b.length && (b[start] === 13 || b[start] === 10)) start++;
      // A double CRLF between messages is a keep-alive ping (it may arrive split over reads).
      if (start >= 4 && b.indexOf(CRLFCRLF) !== -1 && b.indexOf(CRLFCRLF) < start) out.push({ kind: 'ping' });
      if (start === b.length) {
        // Keep a short run of line ends: the rest of a ping may be in the next read.
        this.buf = start >= 4 || start === 0 ? Buffer.alloc(0) : b;
        return out;
      }
      const crlf = b.indexOf(CRLFCRLF, start);
      const lf = b.indexOf(LFLF, start);
      let headerEnd: number;
      let sepLen: number;
      if (crlf !== -1 && (lf === -1 || crlf < lf)) { headerEnd = crlf; sepLen = 4; }
      else if (lf !== -1) { headerEnd = lf; sepLen = 2; }
      else {
        if (b.length - start > this.maxMessageBytes) return this.oversize(out);
        this.buf = start === 0 ? b : b.subarray(start);
        return out;
      }
      const head = b.toString('latin1', start, headerEnd);
      const m = CONTENT_LENGTH.exec(head);
      const bodyLen = m ? Number.parseInt(m[1] as string, 10) : 0;
      const total = headerEnd + sepLen - start + bodyLen;
      if (total > this.maxMessageBytes) return this.oversize(out);
      if (b.length - start < total) {
        this.buf = start === 0 ? b : b.subarray(start);
        return out;
      }
      out.push({ kind: 'message', data: b.subarray(start, start + total) });
      this.buf = b.subarray(start + total);
    }
  }

  /** Bytes held waiting for the rest of a message. */
  get pending(): number {
    return this.buf.length;
  }

  private oversize(out: FrameResult[]): FrameResult[] {
    // The stream cannot be resynchronised past a message we will not read: the connection must go.
    this.buf = Buffer.alloc(0);
    out.push({ kind: 'oversize' });
    return out;
  }
}
