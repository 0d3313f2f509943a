// The page: pick or drop inputs, verify in the worker, show the verdict first and then the
// evidence (patch site, timeline, trace).

import { CORPUS_CASES, corpusRequest, type CorpusCase } from './corpus.js';
import type { TrampolineChoice, VerificationView, VerifyRequest } from './protocol.js';
import { h, hex, reveal } from './view/dom.js';
import { renderPatchSite } from './view/patch-site.js';
import { renderTimeline } from './view/timeline.js';
import { TraceStepper } from './view/trace.js';
import { renderVerdict } from './view/verdict.js';
import { CancelledError, VerificationWorker } from './worker-client.js';

const byId = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const form = byId<HTMLFormElement>('inputs');
const scenarioSelect = byId<HTMLSelectElement>('scenario');
const scenarioDescription = byId<HTMLElement>('scenario-description');
const mainFile = byId<HTMLInputElement>('main-file');
const patchFile = byId<HTMLInputElement>('patch-file');
const mainFileError = byId<HTMLElement>('main-file-error');
const symbolInput = byId<HTMLInputElement>('symbol');
const functionList = byId<HTMLDataListElement>('functions');
const replacementInput = byId<HTMLInputElement>('replacement');
const trampolineSelect = byId<HTMLSelectElement>('trampoline');
const templateInput = byId<HTMLInputElement>('template');
const modeSelect = byId<HTMLSelectElement>('mode');
const verifyButton = byId<HTMLButtonElement>('verify');
const cancelButton = byId<HTMLButtonElement>('cancel');
const progress = byId<HTMLElement>('progress');
const progressBar = byId<HTMLProgressElement>('progress-bar');
const progressStage = byId<HTMLElement>('progress-stage');
const results = byId<HTMLElement>('results');

const worker = new VerificationWorker();
const functionsWorker = new VerificationWorker();

for (const c of CORPUS_CASES) {
  const expected = `expected ${c.expectedVerdict}${c.expectedCodes.length ? `: ${c.expectedCodes.join(', ')}` : ''}`;
  scenarioSelect.append(h('option', { value: c.id, title: expected }, `${c.id}`));
}
const preferred = CORPUS_CASES.find((c) => c.id === 'seed-classic/tool-patches-need-fix-func') ?? CORPUS_CASES[0];
if (preferred) scenarioSelect.value = preferred.id;
const selectedCase = (): CorpusCase | undefined => CORPUS_CASES.find((c) => c.id === scenarioSelect.value);
const describeScenario = (): void => {
  const c = selectedCase();
  scenarioDescription.textContent = c
    ? `${c.description} Case: ${c.symbol}${c.replacement ? ` → ${c.replacement}` : ''}, ${c.signal ? `program-driven (SIG${c.signal})` : 'tool-driven'}, trampoline ${typeof c.trampoline === 'string' ? c.trampoline : c.trampoline.template}. Expected: ${c.expectedVerdict}${c.expectedCodes.length ? ` (${c.expectedCodes.join(', ')})` : ''}.`
    : '';
};
scenarioSelect.addEventListener('change', () => {
  mainFile.value = '';
  patchFile.value = '';
  describeScenario();
});
scenarioSelect.addEventListener('dblclick', () => form.requestSubmit());
scenarioSelect.addEventListener('keydown', (e) => {
  if (e.key === 'Enter') {
    e.preventDefault();
    form.requestSubmit();
  }
});
describeScenario();
trampolineSelect.addEventListener('change', () => {
  templateInput.hidden = trampolineSelect.value !== 'template';
});

async function fileBytes(input: HTMLInputElement): Promise<{ bytes: Uint8Array; name: string } | undefined> {
  const file = input.files?.[0];
  return file ? { bytes: new Uint8Array(await file.arrayBuffer()), name: file.name } : undefined;
}

// Dropping main lists its functions (demangled) for the symbol field.
mainFile.addEventListener('change', async () => {
  const main = await fileBytes(mainFile);
  functionList.replaceChildren();
  mainFileError.textContent = '';
  if (!main) return;
  try {
    const functions = await functionsWorker.listFunctions(main.bytes, main.name);
    for (const f of functions) functionList.append(h('option', { value: f.demangled === f.name ? f.name : f.demangled }, `${hex(f.address)} ${f.name}`));
  } catch (error) {
    // Shown by the field, not as a verdict: Verify gives the verifier's (the CLI's) own words.
    if (!(error instanceof CancelledError)) mainFileError.textContent = (error as Error).message;
  }
});

function trampolineChoice(): TrampolineChoice {
  const v = trampolineSelect.value;
  return v === 'template' ? { template: templateInput.value } : (v as 'abs-rax' | 'rel32' | 'abs-indirect');
}

async function ownRequest(): Promise<VerifyRequest | undefined> {
  const [main, patch] = await Promise.all([fileBytes(mainFile), fileBytes(patchFile)]);
  if (!main && !patch) return undefined;
  if (!main || !patch) throw new Error('choose both files: main and patch.so');
  if (symbolInput.value.trim() === '') throw new Error('name the function to patch');
  const request: VerifyRequest = { main: main.bytes, mainName: main.name, patch: patch.bytes, patchName: patch.name, symbol: symbolInput.value.trim(), trampoline: trampolineChoice() };
  if (replacementInput.value.trim() !== '') request.replacement = replacementInput.value.trim();
  if (modeSelect.value !== '') request.signal = modeSelect.value;
  return request;
}

function showError(message: string): void {
  results.replaceChildren(h('section', { class: 'verdict verdict-error', id: 'verdict' },
    h('h2', {}, h('span', { class: 'verdict-word', 'data-verdict': 'error' }, 'COULD NOT VERIFY')),
    h('p', { class: 'error-text', role: 'alert' }, message)));
}

function setBusy(busy: boolean): void {
  verifyButton.disabled = busy;
  cancelButton.disabled = !busy;
  progress.hidden = !busy;
  document.body.classList.toggle('busy', busy);
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  setBusy(true);
  progressBar.value = 0;
  progressStage.textContent = 'starting';
  results.replaceChildren(h('p', { class: 'muted' }, 'Verifying…'));
  try {
    const own = await ownRequest();
    const c = selectedCase();
    const request = own ?? (c ? await corpusRequest(c) : undefined);
    if (!request) throw new Error('pick a scenario or choose your files');
    const view = await worker.verify(request, (stage, fraction) => {
      progressStage.textContent = stage;
      progressBar.value = fraction;
    });
    showView(view);
  } catch (error) {
    if (error instanceof CancelledError) results.replaceChildren(h('p', { class: 'muted', id: 'cancelled' }, 'Cancelled.'));
    else showError((error as Error).message);
  } finally {
    setBusy(false);
  }
});
cancelButton.addEventListener('click', () => worker.cancel());
document.addEventListener('keydown', (e) => {
  if (e.key === 'Escape' && !cancelButton.disabled) worker.cancel();
});

function showView(view: VerificationView): void {
  let stepper: TraceStepper | undefined;
  const onJump = (address: bigint): boolean => {
    const row = results.querySelector(`#patch-site [data-address="${hex(address)}"]`);
    if (row) {
      reveal(row);
      return true;
    }
    return false;
  };
  const execution = h('section', { class: 'panel', id: 'execution', 'aria-labelledby': 'execution-title' }, h('h2', { id: 'execution-title' }, 'Emulated execution'));
  const goToStep = (step: number): void => {
    if (!stepper) return;
    stepper.goTo(step);
    reveal(stepper.element);
  };
  if (view.trace && view.trace.steps.length > 0) {
    stepper = new TraceStepper(view.trace, view.timeline);
  }
  execution.append(
    h('div', { class: 'columns' },
      h('div', { class: 'column' }, h('h3', {}, 'Timeline'), view.timeline.length > 0 ? renderTimeline(view.timeline, goToStep) : h('p', { class: 'muted' }, 'No run recorded.')),
      h('div', { class: 'column wide' }, h('h3', {}, 'Trace around the patch point'), stepper ? stepper.element : h('p', { class: 'muted' }, 'No trace recorded.'))));
  const parts: HTMLElement[] = [renderVerdict(view, onJump)];
  if (view.result.verdict !== 'error' || view.site) parts.push(renderPatchSite(view.site, view.result), execution);
  results.replaceChildren(...parts);
  results.querySelector<HTMLElement>('#verdict h2')?.setAttribute('tabindex', '-1');
  results.querySelector<HTMLElement>('#verdict h2')?.focus();
}
