// Tiny DOM builders and the page's number spelling (objdump-like hex).

type Child = Node | string | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string | number | boolean | undefined> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    if (name === 'class') element.className = String(value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) if (child !== null && child !== undefined && child !== false) element.append(child);
  return element;
}

export { hex, hexBytes } from '../../../src/hex.js';

/** A 64-bit register value, zero-padded so columns line up. */
export function hex64(value: bigint): string {
  return value.toString(16).padStart(16, '0');
}

/** Scrolls to an element and flashes it, for "jump to evidence". */
export function reveal(element: Element): void {
  element.scrollIntoView({ block: 'center', behavior: 'auto' });
  element.classList.remove('flash');
  void (element as HTMLElement).offsetWidth;
  element.classList.add('flash');
  if (element instanceof HTMLElement) {
    if (!element.hasAttribute('tabindex')) element.setAttribute('tabindex', '-1');
    element.focus({ preventScroll: true });
  }
}
