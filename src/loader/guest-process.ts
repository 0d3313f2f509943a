// What the verifier needs of an emulated process, whichever model runs it: "stubs"
// (EmulatedProcess: the sandbox's own loader and TypeScript libc) or "system"
// (SystemProcess: the real ld.so and libraries over emulated Linux system calls).

import type { Engine } from '../engine/engine.js';
import type { ElfFile } from '../elf/index.js';
import type { RelocationBinding } from './dynamic/bindings.js';
import type { OutputChunk, ProcessEvent } from './events.js';
import type { GuestMemory } from './guest-memory.js';
import type { Mapping } from './kernel/address-space.js';
import type { Poisoning, ProcessStop, RunOptions } from './process.js';

/** A loaded object: the executable or a shared library. */
export interface GuestObject {
  /** The executable, a shared library, or (stubs model) the sandbox's libc image. */
  readonly kind: 'executable' | 'library' | 'libc-image';
  /** The path it was loaded by (link_map l_name; the executable's own path for it). */
  readonly path: string;
  readonly base: bigint;
  readonly elf: ElfFile | undefined;
  contains(address: bigint): boolean;
}

export interface GuestProcess {
  readonly model: 'stubs' | 'system';
  readonly engine: Engine;
  readonly mem: GuestMemory;
  readonly executable: GuestObject;
  readonly events: readonly ProcessEvent[];
  readonly output: readonly OutputChunk[];
  readonly instructions: number;
  readonly exited: ProcessStop | undefined;
  readonly objects: readonly GuestObject[];
  /** The stubs model's last caller-saved poisoning (a libc stub's return); the system model runs the real libc and has none. */
  readonly lastPoisoning?: Poisoning | undefined;
  /** What each relocation bound to (patch.so's included once it is loaded). */
  readonly relocationBindings: readonly RelocationBinding[];
  /** Instruction-budget units charged for host work (libc stubs' copies and formatting, system calls). */
  readonly charged: number;
  /** System calls that failed as unknown (stubs model; the system model stops on an unknown one instead). */
  readonly failedSyscalls: number;
  /** Calls a guest function with the SysV ABI and returns rax (an ifunc resolver, dlopen). */
  callFunction(address: bigint, args: readonly bigint[], maxInstructions: number): bigint;
  run(options: RunOptions): ProcessStop;
  deliverSignal(signo: number): void;
  dlopen(path: string, flags: number, maxInstructions?: number): { handle: bigint } | { error: string };
  mprotect(address: bigint, length: bigint, prot: number): number;
  writeCode(address: bigint, bytes: Uint8Array): void;
  watchCalls(addresses: readonly bigint[]): void;
  describe(address: bigint): string;
  /** The address space's mappings (begin, end, permissions, name), in address order. */
  regions(): readonly Mapping[];
  /** The whole process at this instruction boundary; restore() returns to it. */
  snapshot(): object;
  restore(snapshot: object): void;
}
