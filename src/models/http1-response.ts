/**
 * An incremental HTTP/1.x response parser for the model client: status line and headers (1xx
 * interim responses skipped), then the body framed by Transfer-Encoding: chunked, Content-Length,
 * or the end of the connection. Body bytes are handed on as slices of the received buffers (no
 * copy); only the head and chunk-size lines are ever accumulated, and both are bounded.
 */

/** The response head, with the headers the model client uses. */
export interface ResponseHead {
  readonly status: number;
  readonly contentType: string | undefined;
  readonly customAttributes: string | undefined;
  /** Whether the connection may carry another request once this response has ended. */
  readonly keepAlive: boolean;
}

/** Receives what the parser finds, in order: one head, body slices, one end. */
export interface ResponseSink {
  onHead(head: ResponseHead): void;
  onBody(chunk: Buffer): void;
  onEnd(): void;
}

/** The bytes received are not a valid HTTP/1.x response. */
export class ResponseParseError extends Error {
  override readonly name = 'ResponseParseError';
}

/** Largest response head accepted (node's default `maxHeaderSize`). */
const MAX_HEAD_BYTES = 16 * 1024;
/** Largest chunk-size or trailer line accepted. */
const MAX_LINE_BYTES = 4096;
const CRLF_CRLF = Buffer.from('\r\n\r\n');
const STATUS_LINE = /^HTTP\/1\.([01]) (\d{3})(?: |$)/;
const HEX = /^[0-9a-fA-F]{1,12}$/;

type State = 'head' | 'fixed' | 'size' | 'data' | 'data-end' | 'trailer' | 'until-close' | 'done';

interface Fields {
  contentType?: string;
  customAttributes?: string;
  contentLength?: string;
  transferEncoding?: string;
  connection?: string;
}

function parseFields(lines: readonly string[]): Fields {
  const fields: Fields = {};
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    if (colon <= 0 || line.charCodeAt(0) === 32 || line.charCodeAt(0) === 9) throw new ResponseParseError(`malformed header line ${JSON.stringify(line.slice(0, 100))}`);
    const name = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).trim();
    switch (name) {
      case 'content-type':
        fields.contentType ??= value;
        break;
      case 'x-amzn-sagemaker-custom-attributes':
        fields.customAttributes = fields.customAttributes === undefined ? value : `${fields.customAttributes}, ${value}`;
        break;
      case 'content-length':
        if (fields.contentLength !== undefined && fields.contentLength !== value) throw new ResponseParseError('conflicting Content-Length headers');
        fields.contentLength = value;
        break;
      case 'transfer-encoding':
        fields.transferEncoding = fields.transferEncoding === undefined ? value : `${fields.transferEncoding}, ${value}`;
        break;
      case 'connection':
        fields.connection = fields.connection === undefined ? value : `${fields.connection}, ${value}`;
        break;
    }
  }
  return fields;
}

function hasToken(list: string | undefined, token: string): boolean {
  return list !== undefined && list.toLowerCase().split(',').some((t) => t.trim() === token);
}

/** Parses one response per instance (a connection gets a new parser for each request). */
export class ResponseParser {
  private state: State = 'head';
  /** Head bytes, or the partial chunk-size / trailer line, carried over between buffers. */
  private carry: Buffer | undefined;
  /** Bytes left in a Content-Length body or in the current chunk; CR LF bytes left after a chunk. */
  private remaining = 0;
  /** Bytes that arrived after the end of the response (the connection must not be reused). */
  trailing = false;

  constructor(private readonly sink: ResponseSink) {}

  /** True once the whole response was parsed. */
  get done(): boolean {
    return this.state === 'done';
  }

  /** True while the head is still incomplete (nothing was handed to the sink yet). */
  get awaitingHead(): boolean {
    return this.state === 'head';
  }

  /**
   * Parses `data`. Calls the sink synchronously; stops at the end of the response.
   * @throws ResponseParseError
   */
  execute(data: Buffer): void {
    let offset = 0;
    while (offset < data.length) {
      switch (this.state) {
        case 'head': offset = this.head(data, offset); break;
        case 'fixed': offset = this.fixed(data, offset); break;
        case 'until-close':
          this.sink.onBody(offset === 0 ? data : data.subarray(offset));
          return;
        case 'size': offset = this.line(data, offset, (l) => this.chunkSize(l)); break;
        case 'data': offset = this.chunkData(data, offset); break;
        case 'data-end': offset = this.chunkEnd(data, offset); break;
        case 'trailer': offset = this.line(data, offset, (l) => this.trailer(l)); break;
        case 'done':
          this.trailing = true;
          return;
      }
    }
  }

  /**
   * The connection ended: a body framed by the end of the connection is complete.
   * @throws ResponseParseError when the response was not complete.
   */
  finish(): void {
    if (this.state === 'until-close') this.complete();
    else if (this.state !== 'done') throw new ResponseParseError('the connection ended before the response was complete');
  }

  private complete(): void {
    this.state = 'done';
    this.carry = undefined;
    this.sink.onEnd();
  }

  private head(data: Buffer, offset: number): number {
    const previous = this.carry?.length ?? 0;
    const buf = this.carry === undefined ? data.subarray(offset) : Buffer.concat([this.carry, data.subarray(offset)]);
    const end = buf.indexOf(CRLF_CRLF, Math.max(0, previous - 3));
    if (end < 0) {
      if (buf.length > MAX_HEAD_BYTES) throw new ResponseParseError(`response head larger than ${MAX_HEAD_BYTES} bytes`);
      this.carry = buf;
      return data.length;
    }
    if (end > MAX_HEAD_BYTES) throw new ResponseParseError(`response head larger than ${MAX_HEAD_BYTES} bytes`);
    this.carry = undefined;
    this.startBody(buf.toString('latin1', 0, end));
    return offset + end + 4 - previous;
  }

  private startBody(text: string): void {
    const lines = text.split('\r\n');
    const m = STATUS_LINE.exec(lines[0]!);
    if (m === null) throw new ResponseParseError(`malformed status line ${JSON.stringify(lines[0]!.slice(0, 100))}`);
    const status = Number(m[2]);
    const fields = parseFields(lines);
    if (status >= 100 && status < 200) {
      if (status === 101) throw new ResponseParseError('unexpected 101 Switching Protocols');
      return; // interim response: the real one follows
    }
    const http11 = m[1] === '1';
    let keepAlive = http11 ? !hasToken(fields.connection, 'close') : hasToken(fields.connection, 'keep-alive');
    let framing: State;
    if (status === 204 || status === 304) framing = 'done';
    else if (fields.transferEncoding !== undefined) {
      const codings = fields.transferEncoding.toLowerCase().split(',');
      framing = codings[codings.length - 1]!.trim() === 'chunked' ? 'size' : 'until-close';
      if (fields.contentLength !== undefined) keepAlive = false;
    } else if (fields.contentLength !== undefined) {
      if (!/^\d{1,15}$/.test(fields.contentLength)) throw new ResponseParseError(`invalid Content-Length ${JSON.stringify(fields.contentLength)}`);
      this.remaining = Number(fields.contentLength);
      framing = this.remaining === 0 ? 'done' : 'fixed';
    } else framing = 'until-close';
    if (framing === 'until-close') keepAlive = false;
    this.sink.onHead({ status, contentType: fields.contentType, customAttributes: fields.customAttributes, keepAlive });
    if (framing === 'done') this.complete();
    else this.state = framing;
  }

  private fixed(data: Buffer, offset: number): number {
    const take = Math.min(this.remaining, data.length - offset);
    this.sink.onBody(offset === 0 && take === data.length ? data : data.subarray(offset, offset + take));
    this.remaining -= take;
    if (this.remaining === 0) this.complete();
    return offset + take;
  }

  /** Reads one LF-terminated line (CR stripped) into `handle`; partial lines are carried over. */
  private line(data: Buffer, offset: number, handle: (line: string) => void): number {
    const nl = data.indexOf(10, offset);
    const part = data.subarray(offset, nl < 0 ? data.length : nl);
    const have = (this.carry?.length ?? 0) + part.length;
    if (have > MAX_LINE_BYTES) throw new ResponseParseError(`chunked framing line longer than ${MAX_LINE_BYTES} bytes`);
    if (nl < 0) {
      this.carry = this.carry === undefined ? Buffer.from(part) : Buffer.concat([this.carry, part]);
      return data.length;
    }
    let text = (this.carry === undefined ? part : Buffer.concat([this.carry, part])).toString('latin1');
    this.carry = undefined;
    if (text.endsWith('\r')) text = text.slice(0, -1);
    handle(text);
    return nl + 1;
  }

  private chunkSize(line: string): void {
    const semi = line.indexOf(';');
    const hex = (semi < 0 ? line : line.slice(0, semi)).trim();
    if (!HEX.test(hex)) throw new ResponseParseError(`invalid chunk size ${JSON.stringify(line.slice(0, 100))}`);
    this.remaining = parseInt(hex, 16);
    this.state = this.remaining === 0 ? 'trailer' : 'data';
  }

  private chunkData(data: Buffer, offset: number): number {
    const take = Math.min(this.remaining, data.length - offset);
    this.sink.onBody(offset === 0 && take === data.length ? data : data.subarray(offset, offset + take));
    this.remaining -= take;
    if (this.remaining === 0) {
      this.state = 'data-end';
      this.remaining = 2;
    }
    return offset + take;
  }

  /** The CR LF after a chunk's data (split across buffers at worst byte by byte). */
  private chunkEnd(data: Buffer, offset: number): number {
    const expected = this.remaining === 2 ? 13 : 10;
    const byte = data[offset];
    if (byte === 10 && expected === 13) {
      this.state = 'size'; // a bare LF is accepted
      return offset + 1;
    }
    if (byte !== expected) throw new ResponseParseError('missing CR LF after a chunk');
    this.remaining -= 1;
    if (this.remaining === 0) this.state = 'size';
    return offset + 1;
  }

  private trailer(line: string): void {
    if (line === '') this.complete();
  }
}
