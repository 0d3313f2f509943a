// Stepping through the recorded window: the current instruction in its function's listing,
// the registers (changed by the previous instruction highlighted) and the stack around rsp.

import { STACK_WORDS_BELOW, TRACE_REGISTERS, type RecordedTrace, type TimelineEvent } from '../protocol.js';
import { h, hex, hex64 } from './dom.js';
import { instructionRows } from './listing.js';

export class TraceStepper {
  readonly element: HTMLElement;
  private index = 0;
  private readonly position: HTMLElement;
  private readonly listing: HTMLElement;
  private readonly registers: HTMLElement;
  private readonly stack: HTMLElement;
  private readonly eventHere: HTMLElement;

  constructor(private readonly trace: RecordedTrace, private readonly events: readonly TimelineEvent[]) {
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
    const controls = h('div', { class: 'controls', role: 'toolbar', 'aria-label': 'trace controls' },
      button('⇤ patch point', 'first instruction at or after the patch point (Home)', () => this.goTo(this.patchStep())),
      button('◀ prev event', 'previous timeline event ([)', () => this.jumpEvent(-1)),
      button('◀ prev', 'previous instruction (← or k)', () => this.goTo(this.index - 1)),
      button('next ▶', 'next instruction (→ or j)', () => this.goTo(this.index + 1)),
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

  goTo(step: number): void {
    if (this.trace.steps.length === 0) return;
    this.index = Math.max(0, Math.min(this.trace.steps.length - 1, step));
    this.render();
  }

  private patchStep(): number {
    const patch = this.events.find((e) => e.kind === 'patch-point' && e.step !== undefined);
    return patch?.step ?? 0;
  }

  private jumpEvent(direction: 1 | -1): void {
    const steps = [...new Set(this.events.map((e) => e.step).filter((s): s is number => s !== undefined))].sort((a, b) => a - b);
    const next = direction > 0 ? steps.find((s) => s > this.index) : [...steps].reverse().find((s) => s < this.index);
    if (next !== undefined) this.goTo(next);
  }

  private onKey(e: KeyboardEvent): void {
    const actions: Record<string, () => void> = {
      ArrowRight: () => this.goTo(this.index + 1),
      j: () => this.goTo(this.index + 1),
      ArrowLeft: () => this.goTo(this.index - 1),
      k: () => this.goTo(this.index - 1),
      PageDown: () => this.goTo(this.index + 20),
      PageUp: () => this.goTo(this.index - 20),
      ']': () => this.jumpEvent(1),
      '[': () => this.jumpEvent(-1),
      Home: () => this.goTo(this.patchStep()),
      // Space steps like a debugger's "step" key; Enter goes to the next event.
      ' ': () => this.goTo(this.index + (e.shiftKey ? -1 : 1)),
      Enter: () => this.jumpEvent(1),
    };
    // Enter and Space on the toolbar's buttons press those buttons.
    if ((e.key === ' ' || e.key === 'Enter') && e.target !== this.element) return;
    const action = actions[e.key];
    if (action) {
      e.preventDefault();
      action();
    }
  }

  private render(): void {
    const step = this.trace.steps[this.index]!;
    const previous = this.index > 0 ? this.trace.steps[this.index - 1] : undefined;
    this.position.textContent = `step ${this.index + 1} / ${this.trace.steps.length} · instruction #${step.at.toLocaleString('en')}${this.trace.truncated && this.index === this.trace.steps.length - 1 ? ' (end of the recorded window)' : ''}`;
    this.position.dataset['step'] = String(this.index);
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
