// Stepping through the recorded window: the current instruction in its function's listing,
// the registers (changed by the previous instruction highlighted) and the stack around rsp.
// A threaded run (system model) names the thread of each step, and a thread picker makes the
// stepping keys and buttons move through one thread's instructions only.

import { STACK_WORDS_BELOW, TRACE_REGISTERS, type RecordedTrace, type TimelineEvent } from '../protocol.js';
import { h, hex, hex64 } from './dom.js';
import { instructionRows } from './listing.js';
import { moveWithin, stepsOf, traceThreads, type TraceThread } from '../trace-threads.js';

export class TraceStepper {
  readonly element: HTMLElement;
  private index = 0;
  private readonly position: HTMLElement;
  private readonly listing: HTMLElement;
  private readonly registers: HTMLElement;
  private readonly stack: HTMLElement;
  private readonly eventHere: HTMLElement;
  /** The threads that executed recorded steps (none for a run with one thread). */
  readonly threads: TraceThread[];
  /** The picker (absent with fewer than two threads) and the steps it lets the keys visit. */
  readonly picker: HTMLSelectElement | undefined;
  private chosen: number[];
  /** Per step, the index of the same thread's previous step (whose registers it changed), or -1. */
  private readonly previousOfThread: number[];

  /** `threadList`: the run's threads by tid with their names (the report's `run.process.threads.list`). */
  constructor(private readonly trace: RecordedTrace, private readonly events: readonly TimelineEvent[], threadList: readonly { tid: number; name: string }[] = []) {
    const button = (label: string, title: string, action: () => void): HTMLButtonElement => {
      const b = h('button', { type: 'button', title }, label);
      b.addEventListener('click', action);
      return b;
    };
    this.position = h('span', { class: 'position', 'aria-live': 'polite' });
    this.eventHere = h('span', { class: 'event-here' });
    this.listing = h('div', { class: 'listing trace-listing', role: 'table', 'aria-label': 'code around the current instruction' });
    this.registers = h('table', { class: 'registers', 'aria-label': 'registers' });
    this.stack = h('table', { class: 'stack', 'aria-label': 'stack around rsp' });
    const found = traceThreads(trace.steps, threadList);
    this.threads = found.length > 1 ? found : [];
    this.chosen = stepsOf(trace.steps, undefined);
    const last = new Map<number | undefined, number>();
    this.previousOfThread = trace.steps.map((s, i) => {
      const before = last.get(s.thread) ?? -1;
      last.set(s.thread, i);
      return before;
    });
    if (this.threads.length > 0) {
      const picker = h('select', { class: 'thread-picker', 'aria-label': 'thread: step through one thread\'s instructions, or all' },
        h('option', { value: '' }, `all threads (${this.threads.length})`),
        ...this.threads.map((t) => h('option', { value: String(t.tid) }, `thread ${t.tid} ${t.name} (${t.steps} steps)`))) as HTMLSelectElement;
      picker.addEventListener('change', () => this.chooseThread(picker.value === '' ? undefined : Number(picker.value)));
      this.picker = picker;
    }
    const controls = h('div', { class: 'controls', role: 'toolbar', 'aria-label': 'trace controls' },
      ...(this.picker ? [h('label', { class: 'thread-choice' }, 'Thread ', this.picker)] : []),
      button('⇤ patch point', 'first instruction at or after the patch point (Home)', () => this.goTo(this.patchStep())),
      button('◀ prev event', 'previous timeline event ([)', () => this.jumpEvent(-1)),
      button('◀ prev', 'previous instruction (← or k)', () => this.step(-1)),
      button('next ▶', 'next instruction (→ or j)', () => this.step(1)),
      button('next event ▶', 'next timeline event (])', () => this.jumpEvent(1)),
      this.position);
    this.element = h('div', { class: 'stepper', tabindex: 0, 'aria-label': 'trace stepper: ← → or Space step, [ ] or Enter jump between events, Home: patch point' },
      controls, this.eventHere,
      h('div', { class: 'columns' },
        h('div', { class: 'column wide' }, this.listing),
        h('div', { class: 'column' }, h('h3', {}, 'Registers'), this.registers, h('h3', {}, 'Stack'), this.stack)));
    this.element.addEventListener('keydown', (e) => this.onKey(e));
    this.goTo(this.patchStep());
  }

  get current(): number {
    return this.index;
  }

  /** The thread the keys step through; undefined: all threads. */
  get thread(): number | undefined {
    return this.picker && this.picker.value !== '' ? Number(this.picker.value) : undefined;
  }

  /** Steps through thread `tid` only (undefined: all); the current step moves to that thread's next one. */
  chooseThread(tid: number | undefined): void {
    if (this.picker) {
      const value = tid === undefined ? '' : String(tid);
      if (![...this.picker.options].some((o) => o.value === value)) return;
      this.picker.value = value;
    }
    this.chosen = stepsOf(this.trace.steps, this.thread);
    this.goTo(this.index);
  }

  /** `delta` instructions on, of the chosen thread (or of all). */
  private step(delta: number): void {
    this.goTo(moveWithin(this.chosen, this.index, delta));
  }

  /** To step `step`, or with a thread chosen, to that thread's first step at or after it (else its last before). */
  goTo(step: number): void {
    if (this.trace.steps.length === 0) return;
    const clamped = Math.max(0, Math.min(this.trace.steps.length - 1, step));
    this.index = moveWithin(this.chosen, clamped, 0);
    this.render();
  }

  private patchStep(): number {
    const patch = this.events.find((e) => e.kind === 'patch-point' && e.step !== undefined);
    return patch?.step ?? 0;
  }

  private jumpEvent(direction: 1 | -1): void {
    const steps = [...new Set(this.events.map((e) => e.step).filter((s): s is number => s !== undefined))].sort((a, b) => a - b);
    // With a thread chosen, an event's step is that thread's first step at or after it.
    const mine = [...new Set(steps.map((s) => moveWithin(this.chosen, s, 0)))].sort((a, b) => a - b);
    const next = direction > 0 ? mine.find((s) => s > this.index) : [...mine].reverse().find((s) => s < this.index);
    if (next !== undefined) this.goTo(next);
  }

  private onKey(e: KeyboardEvent): void {
    const actions: Record<string, () => void> = {
      ArrowRight: () => this.step(1),
      j: () => this.step(1),
      ArrowLeft: () => this.step(-1),
      k: () => this.step(-1),
      PageDown: () => this.step(20),
      PageUp: () => this.step(-20),
      ']': () => this.jumpEvent(1),
      '[': () => this.jumpEvent(-1),
      Home: () => this.goTo(this.patchStep()),
      // Space steps like a debugger's "step" key; Enter goes to the next event.
      ' ': () => this.step(e.shiftKey ? -1 : 1),
      Enter: () => this.jumpEvent(1),
    };
    // Enter and Space on the toolbar's buttons press those buttons; the picker keeps its own keys.
    if ((e.key === ' ' || e.key === 'Enter') && e.target !== this.element) return;
    if (this.picker && e.target === this.picker) return;
    const action = actions[e.key];
    if (action) {
      e.preventDefault();
      action();
    }
  }

  private render(): void {
    const step = this.trace.steps[this.index]!;
    // The registers the previous instruction changed: that of the same thread (another thread's ran in between).
    const before = this.previousOfThread[this.index]!;
    const previous = before >= 0 ? this.trace.steps[before] : undefined;
    const thread = step.thread !== undefined ? this.threads.find((t) => t.tid === step.thread) : undefined;
    const chosenAt = this.thread !== undefined ? this.chosen.indexOf(this.index) : -1;
    const count = chosenAt >= 0 ? `step ${chosenAt + 1} / ${this.chosen.length} of this thread (${this.index + 1} / ${this.trace.steps.length} in all)` : `step ${this.index + 1} / ${this.trace.steps.length}`;
    this.position.textContent = `${count} · instruction #${step.at.toLocaleString('en')}${thread ? ` · thread ${thread.tid} ${thread.name}` : ''}${this.trace.truncated && this.index === this.trace.steps.length - 1 ? ' (end of the recorded window)' : ''}`;
    this.position.dataset['step'] = String(this.index);
    if (thread) this.position.dataset['thread'] = String(thread.tid);
    this.position.dataset['rip'] = hex(step.rip);
    const here = this.events.filter((e) => e.step === this.index && e.kind !== 'output');
    this.eventHere.textContent = here.map((e) => e.text).join(' · ');

    const listing = this.trace.listings[step.listing]!;
    this.listing.replaceChildren(h('h3', {}, listing.title));
    let currentRow: HTMLElement | undefined;
    for (const line of listing.lines) {
      const isCurrent = line.address === step.rip;
      const rows = instructionRows(line, { classes: isCurrent ? ['current'] : [], attributes: { 'aria-current': isCurrent ? 'step' : undefined }, pointer: isCurrent ? '▶' : '' });
      const row = rows[0]!;
      if (isCurrent) currentRow = row;
      this.listing.append(...rows);
    }
    if (!currentRow) this.listing.append(h('p', { class: 'muted' }, `rip ${hex(step.rip)} is not at an instruction boundary of this listing`));
    else currentRow.scrollIntoView({ block: 'nearest' });

    this.registers.replaceChildren(h('tr', {}, h('th', {}, 'rip'), h('td', {}, h('code', {}, hex64(step.rip)))));
    TRACE_REGISTERS.forEach((name, i) => {
      const value = step.registers[i]!;
      const changed = previous !== undefined && previous.registers[i] !== value;
      this.registers.append(h('tr', { class: changed ? 'changed' : undefined, 'data-register': name },
        h('th', {}, name), h('td', {}, h('code', {}, hex64(value)))));
    });

    const rsp = step.registers[TRACE_REGISTERS.indexOf('rsp')]!;
    this.stack.replaceChildren();
    step.stack.forEach((word, i) => {
      const offset = (i - STACK_WORDS_BELOW) * 8;
      const changed = previous !== undefined && previous.registers[TRACE_REGISTERS.indexOf('rsp')] === rsp && previous.stack[i] !== word;
      this.stack.append(h('tr', { class: [offset === 0 ? 'top' : '', changed ? 'changed' : ''].join(' ').trim() || undefined },
        h('th', {}, offset === 0 ? 'rsp →' : `rsp${offset > 0 ? '+' : ''}${offset}`),
        h('td', {}, h('code', {}, hex(rsp + BigInt(offset)).slice(2))),
        h('td', {}, h('code', {}, word === null ? '(unmapped)' : hex64(word)))));
    });
  }
}
