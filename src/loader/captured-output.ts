// The guest's stdout and stderr, bounded: per stream the first and the last `keep` bytes are
// kept with the instruction count at which they were written, the bytes in between only
// counted. A program writing forever, or one write of a gigabyte, costs at most 4 x keep bytes.

import type { OutputChunk } from './events.js';
import { decodeUtf8 } from './guest-memory.js';

interface Stored {
  seq: number;
  chunk: OutputChunk;
}

interface Stream {
  headBytes: number;
  tail: Stored[];
  tailBytes: number;
  omitted: number;
  total: number;
  /** seq of the stream's last head chunk: where the omission marker goes. */
  lastHeadSeq: number;
}

export interface CapturedOutputState {
  readonly head: readonly Stored[];
  readonly streams: ReadonlyMap<number, Stream>;
  readonly seq: number;
}

export class CapturedOutput {
  private head: Stored[] = [];
  private streams = new Map<number, Stream>();
  private seq = 0;

  constructor(readonly keep: number) {}

  /** Bytes the guest wrote to `fd` in all, kept or not. */
  totalBytes(fd: number): number {
    return this.streams.get(fd)?.total ?? 0;
  }

  /** Bytes written to `fd` that were counted but not kept. */
  omittedBytes(fd: number): number {
    return this.streams.get(fd)?.omitted ?? 0;
  }

  append(fd: number, bytes: Uint8Array, at: number): void {
    this.appendRange(fd, bytes.length, at, (offset, length) => bytes.subarray(offset, offset + length));
  }

  /** A write of `size` bytes whose contents `read` supplies: only the kept parts are read. */
  appendRange(fd: number, size: number, at: number, read: (offset: number, length: number) => Uint8Array): void {
    const s = this.stream(fd);
    s.total += size;
    const toHead = Math.min(size, Math.max(0, this.keep - s.headBytes));
    if (toHead > 0) {
      s.lastHeadSeq = this.seq;
      this.head.push({ seq: this.seq++, chunk: makeChunk(fd, read(0, toHead).slice(), at) });
      s.headBytes += toHead;
    }
    const rest = size - toHead;
    if (rest === 0) return;
    const kept = Math.min(rest, this.keep);
    s.omitted += rest - kept;
    if (kept > 0) {
      s.tail.push({ seq: this.seq++, chunk: makeChunk(fd, read(size - kept, kept).slice(), at) });
      s.tailBytes += kept;
    }
    while (s.tailBytes > this.keep) {
      const first = s.tail[0]!;
      const excess = s.tailBytes - this.keep;
      if (first.chunk.bytes.length <= excess) {
        s.tail.shift();
        s.tailBytes -= first.chunk.bytes.length;
        s.omitted += first.chunk.bytes.length;
      } else {
        s.tail[0] = { seq: first.seq, chunk: makeChunk(fd, first.chunk.bytes.slice(excess), first.chunk.at) };
        s.tailBytes -= excess;
        s.omitted += excess;
      }
    }
  }

  /** Every kept chunk in write order, with one marker chunk (`omitted` set) where a stream's bytes were left out. */
  chunks(): OutputChunk[] {
    const all: { seq: number; chunk: OutputChunk }[] = [...this.head];
    for (const [fd, s] of this.streams) {
      if (s.omitted > 0) {
        const text = `\n[... ${s.omitted} bytes not kept (--max-output ${this.keep}: first and last ${this.keep} bytes of ${s.total}) ...]\n`;
        all.push({ seq: s.lastHeadSeq + 0.5, chunk: { fd, bytes: new Uint8Array(0), text, at: s.tail[0]?.chunk.at ?? 0, omitted: s.omitted } });
      }
      all.push(...s.tail);
    }
    return all.sort((a, b) => a.seq - b.seq).map((x) => x.chunk);
  }

  saveState(): CapturedOutputState {
    const streams = new Map<number, Stream>();
    for (const [fd, s] of this.streams) streams.set(fd, { ...s, tail: [...s.tail] });
    return { head: [...this.head], streams, seq: this.seq };
  }

  restoreState(state: CapturedOutputState): void {
    this.head = [...state.head];
    this.streams = new Map();
    for (const [fd, s] of state.streams) this.streams.set(fd, { ...s, tail: [...s.tail] });
    this.seq = state.seq;
  }

  private stream(fd: number): Stream {
    let s = this.streams.get(fd);
    if (!s) {
      s = { headBytes: 0, tail: [], tailBytes: 0, omitted: 0, total: 0, lastHeadSeq: -1 };
      this.streams.set(fd, s);
    }
    return s;
  }
}

function makeChunk(fd: number, bytes: Uint8Array, at: number): OutputChunk {
  return { fd, bytes, text: decodeUtf8(bytes), at };
}
