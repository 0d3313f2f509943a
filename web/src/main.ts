// The page: pick or drop inputs, verify in the worker, show the verdict first and then the
// evidence (patch site, timeline, trace).

import { CORPUS_CASES, corpusFiles, corpusMain, type CorpusCase } from './corpus.js';
import type { TrampolineChoice, VerificationView, VerifyRequest } from './protocol.js';
import { h, hex, reveal } from './view/dom.js';
import { renderExploration } from './view/exploration.js';
import { renderPatchSite } from './view/patch-site.js';
import { renderSlotWrites } from './view/slot-writes.js';
import { renderTimeline } from './view/timeline.js';
import { TraceStepper } from './view/trace.js';
import { renderVerdict } from './view/verdict.js';
import { CancelledError, VerificationWorker } from './worker-client.js';
import { fromFragment, seedError, toFragment, type PermalinkState } from './permalink.js';
import { renderDownloads } from './view/downloads.js';
import { BUNDLED, bundledSummary, bundledTar, licenceFooter, sysrootFromFile } from './sysroot.js';

const byId = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const form = byId<HTMLFormElement>('inputs');
const scenarioSelect = byId<HTMLSelectElement>('scenario');
const scenarioDescription = byId<HTMLElement>('scenario-description');
const mainFile = byId<HTMLInputElement>('main-file');
const patchFile = byId<HTMLInputElement>('patch-file');
const mainFileError = byId<HTMLElement>('main-file-error');
const symbolInput = byId<HTMLInputElement>('symbol');
const functionList = byId<HTMLDataListElement>('functions');
const functionsHint = byId<HTMLElement>('functions-hint');
const replacementInput = byId<HTMLInputElement>('replacement');
const trampolineSelect = byId<HTMLSelectElement>('trampoline');
const strategySelect = byId<HTMLSelectElement>('strategy');
const libraryFiles = byId<HTMLInputElement>('library-files');
const templateInput = byId<HTMLInputElement>('template');
const modeSelect = byId<HTMLSelectElement>('mode');
const exploreCheck = byId<HTMLInputElement>('explore');
const modelSelect = byId<HTMLSelectElement>('process-model');
const sysrootFile = byId<HTMLInputElement>('sysroot-file');
const sysrootFileLabel = byId<HTMLElement>('sysroot-file-label');
const sysrootNote = byId<HTMLElement>('sysroot-note');
const seedInput = byId<HTMLInputElement>('seed');
const verifyButton = byId<HTMLButtonElement>('verify');
const cancelButton = byId<HTMLButtonElement>('cancel');
const progress = byId<HTMLElement>('progress');
const progressBar = byId<HTMLProgressElement>('progress-bar');
const progressStage = byId<HTMLElement>('progress-stage');
const results = byId<HTMLElement>('results');

const worker = new VerificationWorker();

// The process model: the system model on the bundled sysroot where the build has one (as the
// command line runs on the machine's own), on a sysroot tar the user drops in, or the stubs.
type ModelChoice = 'bundled' | 'own' | 'stubs';
const bundledOption = modelSelect.querySelector<HTMLOptionElement>('option[value="bundled"]')!;
if (!BUNDLED.available) {
  bundledOption.disabled = true;
  bundledOption.textContent = 'system: no bundled sysroot in this build';
}
byId<HTMLElement>('licences').append(...licenceFooter());

/** What a case (or the user's own files) runs on by default: the system model wherever a sysroot is at hand. */
function defaultModel(wants: 'system' | 'stubs'): ModelChoice {
  if (wants === 'stubs') return 'stubs';
  if (BUNDLED.available) return 'bundled';
  return sysrootFile.files?.length ? 'own' : 'stubs';
}

function syncModel(): void {
  const model = modelSelect.value as ModelChoice;
  sysrootFile.hidden = model !== 'own';
  sysrootFileLabel.hidden = model !== 'own';
  sysrootNote.classList.remove('note');
  sysrootNote.removeAttribute('id');
  sysrootNote.id = 'sysroot-note';
  if (model === 'bundled') sysrootNote.textContent = `ld.so, libc.so.6, libm.so.6, libstdc++.so.6 and libgcc_s.so.1 of ${bundledSummary()} (licences at the foot of the page).`;
  else if (model === 'own') sysrootNote.textContent = 'A tar of the image main runs on in production, or of its library directories (lib64, lib, usr/lib/x86_64-linux-gnu...): main then meets exactly those libraries; only they and /etc/ld.so.cache are visible to it.';
  else if (!BUNDLED.available) {
    // The fallback the build announced: one visible line saying why the system model is not the default.
    sysrootNote.textContent = `No bundled sysroot in this build (${BUNDLED.reason}): the page runs the stubs model; choose your own sysroot tar for the system model.`;
    sysrootNote.classList.add('note');
  } else sysrootNote.textContent = 'The sandbox\'s loader and TypeScript libc: fast and with an instruction trace, for programs that need no more of libc than the stubs cover.';
}
modelSelect.addEventListener('change', syncModel);
sysrootFile.addEventListener('change', () => {
  if (sysrootFile.files?.length) setModel('own');
});
syncModel();
function setModel(model: ModelChoice): void {
  modelSelect.value = model;
  syncModel();
}
const functionsWorker = new VerificationWorker();

// One group per scenario, so the list shows case names (the scenario is the group's label).
const groups = new Map<string, HTMLOptGroupElement>();
for (const c of CORPUS_CASES) {
  let group = groups.get(c.scenario);
  if (!group) {
    group = h('optgroup', { label: c.scenario });
    groups.set(c.scenario, group);
    scenarioSelect.append(group);
  }
  const expected = `expected ${c.expectedVerdict}${c.expectedCodes.length ? `: ${c.expectedCodes.join(', ')}` : ''}`;
  group.append(h('option', { value: c.id, title: `${c.id}: ${expected}` }, c.name));
}
const preferred = CORPUS_CASES.find((c) => c.id === 'seed-classic/tool-patches-need-fix-func') ?? CORPUS_CASES[0];
if (preferred) scenarioSelect.value = preferred.id;
const selectedCase = (): CorpusCase | undefined => CORPUS_CASES.find((c) => c.id === scenarioSelect.value);

/** The case's own settings into the fields: Verify reads the fields, so a user can change any of them. */
function fillFieldsFrom(c: Pick<CorpusCase, 'symbol' | 'replacement' | 'trampoline' | 'signal'> & { id?: string; strategy?: CorpusCase['strategy']; explore?: CorpusCase['explore']; process?: 'system' | 'stubs' }): void {
  symbolInput.value = c.symbol;
  if (c.id !== undefined) symbolInput.dataset['fromCase'] = c.id;
  replacementInput.value = c.replacement ?? '';
  trampolineSelect.value = typeof c.trampoline === 'string' ? c.trampoline : 'template';
  templateInput.value = typeof c.trampoline === 'string' ? '' : c.trampoline.template;
  templateInput.hidden = trampolineSelect.value !== 'template';
  if (c.signal !== undefined && ![...modeSelect.options].some((o) => o.value === c.signal)) {
    modeSelect.append(h('option', { value: c.signal }, `main's own SIG${c.signal} handler (program-driven)`));
  }
  modeSelect.value = c.signal ?? '';
  strategySelect.value = c.strategy ?? 'prologue';
  syncStrategy();
  exploreCheck.checked = c.explore !== undefined;
  if (c.process !== undefined) setModel(defaultModel(c.process));
}

/** A trampoline is what the prologue strategy writes; the slot strategies write addresses. */
function syncStrategy(): void {
  trampolineSelect.disabled = strategySelect.value !== 'prologue';
  templateInput.disabled = trampolineSelect.disabled;
}
strategySelect.addEventListener('change', syncStrategy);

/** The list scrolls a group's first case to its top edge, hiding which scenario it belongs to: show the label too. */
function showGroupLabel(): void {
  const option = scenarioSelect.selectedOptions[0];
  if (!option || option.previousElementSibling !== null) return;
  requestAnimationFrame(() => {
    const label = option.offsetTop - scenarioSelect.offsetTop - option.offsetHeight - 4;
    if (scenarioSelect.scrollTop > label) scenarioSelect.scrollTop = Math.max(0, label);
  });
}

/** The exploration window and stride an opened permalink asked for (until the scenario changes). */
let linkExplore: { from?: number; to?: number; stride?: number } | undefined;

const selectScenario = (): void => {
  linkExplore = undefined; // a permalink's window is for its own case
  const c = selectedCase();
  scenarioDescription.textContent = c
    ? `${c.description} Case: ${c.symbol}${c.replacement ? ` → ${c.replacement}` : ''}, ${c.signal ? `program-driven (SIG${c.signal})` : 'tool-driven'}, ${c.strategy ? `strategy ${c.strategy}` : `trampoline ${typeof c.trampoline === 'string' ? c.trampoline : c.trampoline.template}`}. Expected: ${c.expectedVerdict}${c.expectedCodes.length ? ` (${c.expectedCodes.join(', ')})` : ''}; change the fields below to try another function or trampoline on these files.`
    : '';
  if (!c) return;
  showGroupLabel();
  fillFieldsFrom(c);
  void listFunctions(async () => ({ bytes: await corpusMain(c), name: c.main }));
};
scenarioSelect.addEventListener('change', () => {
  mainFile.value = '';
  patchFile.value = '';
  libraryFiles.value = '';
  selectScenario();
});
scenarioSelect.addEventListener('dblclick', () => form.requestSubmit());
scenarioSelect.addEventListener('keydown', (e) => {
  if (e.key === 'Enter') {
    e.preventDefault();
    form.requestSubmit();
  }
});
trampolineSelect.addEventListener('change', () => {
  templateInput.hidden = trampolineSelect.value !== 'template';
});

async function fileBytes(input: HTMLInputElement): Promise<{ bytes: Uint8Array; name: string } | undefined> {
  const file = input.files?.[0];
  return file ? { bytes: new Uint8Array(await file.arrayBuffer()), name: file.name } : undefined;
}

/** main's functions (demangled) as the symbol field's suggestions, for a dropped file or a corpus case. */
async function listFunctions(load: () => Promise<{ bytes: Uint8Array; name: string } | undefined>): Promise<void> {
  functionList.replaceChildren();
  functionsHint.textContent = '';
  mainFileError.textContent = '';
  try {
    const main = await load();
    if (!main) return;
    const functions = await functionsWorker.listFunctions(main.bytes, main.name);
    functionList.replaceChildren(...functions.map((f) => h('option', { value: f.demangled === f.name ? f.name : f.demangled }, `${hex(f.address)} ${f.name}`)));
    functionsHint.textContent = `${functions.length} functions in ${main.name}: type to search them`;
  } catch (error) {
    // Shown by the field, not as a verdict: Verify gives the verifier's (the CLI's) own words.
    if (!(error instanceof CancelledError)) mainFileError.textContent = (error as Error).message;
  }
}
/**
 * Choosing your own files leaves the corpus behind: no case is selected and its fields (its
 * symbol, its replacement such as fix_func, its trampoline and mode) are cleared, so nothing
 * of the last case is verified against files it does not belong to.
 */
function leaveCorpusCase(): void {
  if (scenarioSelect.value === '' && symbolInput.dataset['fromCase'] === undefined) return;
  scenarioSelect.value = '';
  scenarioDescription.textContent = 'No corpus case selected: verifying your own files. Name the function to patch (and, if patch.so has no fix_table, its replacement).';
  symbolInput.value = '';
  replacementInput.value = '';
  trampolineSelect.value = 'abs-rax';
  templateInput.value = '';
  templateInput.hidden = true;
  modeSelect.value = '';
  delete symbolInput.dataset['fromCase'];
  setModel(defaultModel('system'));
}
mainFile.addEventListener('change', () => {
  if (mainFile.files?.length) leaveCorpusCase();
  void listFunctions(() => fileBytes(mainFile));
});
patchFile.addEventListener('change', () => {
  if (patchFile.files?.length) leaveCorpusCase();
});
selectScenario();

/** Opens a permalink: its case and fields, then verifies; without a case, asks for the files. */
function openPermalink(): void {
  const state = fromFragment(location.hash);
  if (state === null) return;
  if ('error' in state) {
    results.replaceChildren(h('p', { class: 'note', id: 'permalink-note', role: 'status' }, `This link cannot be opened: ${state.error}.`));
    return;
  }
  if (state.case !== undefined) {
    if (!CORPUS_CASES.some((c) => c.id === state.case)) {
      results.replaceChildren(h('p', { class: 'note', id: 'permalink-note', role: 'status' }, `This link names the case '${state.case}', which this page does not have; pick a scenario.`));
      return;
    }
    scenarioSelect.value = state.case;
    mainFile.value = '';
    patchFile.value = '';
    selectScenario();
    fillFieldsFrom(state);
    seedInput.value = state.seed ?? '';
    exploreFromLink(state);
    form.requestSubmit();
    return;
  }
  // No case: the fields are the link's, and choosing the files must not clear them as it clears a case's.
  scenarioSelect.value = '';
  scenarioDescription.textContent = '';
  delete symbolInput.dataset['fromCase'];
  fillFieldsFrom(state);
  if (state.process === undefined) setModel(defaultModel('system'));
  seedInput.value = state.seed ?? '';
  exploreFromLink(state);
  results.replaceChildren(h('p', { class: 'note', id: 'permalink-note', role: 'status' }, 'This link holds the options, not the files: choose main and patch.so, then Verify.'));
  mainFile.focus();
}

/** A link's --explore window and --stride: the checkbox and the window the next Verify uses. */
function exploreFromLink(state: PermalinkState): void {
  exploreCheck.checked = state.explore !== undefined;
  linkExplore = state.explore ? { ...state.explore, ...(state.stride !== undefined ? { stride: state.stride } : {}) } : undefined;
}

function trampolineChoice(): TrampolineChoice {
  const v = trampolineSelect.value;
  return v === 'template' ? { template: templateInput.value } : (v as 'abs-rax' | 'rel32' | 'abs-indirect');
}

/** The user's files if any were chosen, else the selected case's; what to patch and how from the fields. */
/** The permalink of the request buildRequest made last (the case and the options, never the files). */
let requestLink: PermalinkState | undefined;

async function buildRequest(): Promise<VerifyRequest> {
  const [main, patch] = await Promise.all([fileBytes(mainFile), fileBytes(patchFile)]);
  let files: Pick<VerifyRequest, 'main' | 'mainName' | 'patch' | 'patchName' | 'libraries'>;
  let caseId: string | undefined;
  if (main || patch) {
    if (!main || !patch) throw new Error('choose both files: main and patch.so');
    files = { main: main.bytes, mainName: main.name, patch: patch.bytes, patchName: patch.name };
    const libraries = await Promise.all([...(libraryFiles.files ?? [])].map(async (f) => ({ path: f.name, bytes: new Uint8Array(await f.arrayBuffer()) })));
    if (libraries.length > 0) files.libraries = libraries;
  } else {
    const c = selectedCase();
    if (!c) throw new Error('pick a scenario or choose your files');
    files = await corpusFiles(c);
    caseId = c.id;
  }
  if (symbolInput.value.trim() === '') throw new Error('name the function to patch');
  const request: VerifyRequest = { ...files, symbol: symbolInput.value.trim(), trampoline: trampolineChoice() };
  const model = modelSelect.value as ModelChoice;
  if (model === 'bundled') request.sysroot = { name: `${BUNDLED.available ? BUNDLED.distribution : 'Debian'} (bundled)`, tar: await bundledTar() };
  else if (model === 'own') {
    const file = sysrootFile.files?.[0];
    if (!file) throw new Error('choose a sysroot tar (or another process model)');
    request.sysroot = { name: file.name, tar: await sysrootFromFile(file) };
  }
  if (replacementInput.value.trim() !== '') request.replacement = replacementInput.value.trim();
  if (modeSelect.value !== '') request.signal = modeSelect.value;
  if (strategySelect.value === 'got' || strategySelect.value === 'vtable') request.strategy = strategySelect.value;
  if (seedInput.value.trim() !== '') {
    const error = seedError(seedInput.value);
    if (error) throw new Error(error);
    request.seed = BigInt(seedInput.value.trim()).toString();
  }
  // A permalink's window and stride; else a corpus case's own window while its files are used; the default window otherwise.
  if (exploreCheck.checked) {
    request.explore = linkExplore ? { ...linkExplore } : !main && !patch ? { ...(selectedCase()?.explore ?? {}) } : {};
  }
  const link: PermalinkState = { symbol: request.symbol, trampoline: request.trampoline };
  if (caseId !== undefined) link.case = caseId;
  if (request.replacement !== undefined) link.replacement = request.replacement;
  if (request.signal !== undefined) link.signal = request.signal;
  if (request.strategy !== undefined) link.strategy = request.strategy;
  // The model only when it is not what the case (or your own files) would run on anyway.
  const chosen = model === 'stubs' ? 'stubs' : 'system';
  if (chosen !== (caseId !== undefined ? selectedCase()?.process ?? 'stubs' : 'system')) link.process = chosen;
  if (request.seed !== undefined) link.seed = request.seed;
  if (request.explore !== undefined) {
    const { stride, ...window } = request.explore;
    link.explore = window;
    if (stride !== undefined) link.stride = stride;
  }
  requestLink = link;
  return request;
}

/** The last exploration, kept while one of its windows is replayed. */
let lastExploration: { view: VerificationView; request: VerifyRequest } | undefined;

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

form.addEventListener('submit', (event) => {
  event.preventDefault();
  void run(buildRequest);
});

/** Verifies the patch again at one explored point: the timeline and trace then show that moment. */
function replayAt(point: number): void {
  const explored = lastExploration;
  if (!explored) return;
  const { explore: _explore, ...plain } = explored.request;
  void run(async () => ({ ...plain, patchAt: point }), point);
}

async function run(request: () => Promise<VerifyRequest>, replaying?: number): Promise<void> {
  setBusy(true);
  progressBar.value = 0;
  progressStage.textContent = 'starting';
  results.replaceChildren(h('p', { class: 'muted' }, replaying === undefined ? 'Verifying…' : `Verifying at --patch-at ${replaying}…`));
  try {
    const built = await request();
    // The address bar is the permalink of what is being verified (replaced, not pushed: Back leaves the page).
    if (replaying === undefined && requestLink) history.replaceState(null, '', toFragment(requestLink));
    const view = await worker.verify(built, (stage, fraction) => {
      progressStage.textContent = stage;
      progressBar.value = fraction;
    });
    if (view.result.exploration) lastExploration = { view, request: built };
    else if (replaying === undefined) lastExploration = undefined;
    showView(view, replaying);
    results.querySelector('#verdict')?.append(renderDownloads(view.result, { main: built.mainName, patch: built.patchName }, location.hash));
  } catch (error) {
    if (error instanceof CancelledError) results.replaceChildren(h('p', { class: 'muted', id: 'cancelled' }, 'Cancelled.'));
    else showError((error as Error).message);
  } finally {
    setBusy(false);
  }
}
cancelButton.addEventListener('click', () => worker.cancel());
document.addEventListener('keydown', (e) => {
  if (e.key === 'Escape' && !cancelButton.disabled) worker.cancel();
});

/** Right after the verdict: keyboard users go to the evidence without tabbing through every finding. */
function jumpLinks(site: HTMLElement, trace: HTMLElement): HTMLElement {
  const jump = (label: string, to: HTMLElement): HTMLButtonElement => {
    const button = h('button', { type: 'button', class: 'link' }, label);
    button.addEventListener('click', () => reveal(to));
    return button;
  };
  return h('nav', { class: 'jump-links', 'aria-label': 'go to the evidence' }, 'Go to: ', jump('patch site', site), ' · ', jump('trace (← → step)', trace));
}

/** Whether the trace shows the verifier's run; when the replay differs there is no trace, and this says why. */
function replayCheckNote(view: VerificationView): HTMLElement | null {
  const check = view.replay;
  if (!check || !check.compared) return null;
  if (check.differences.length === 0) {
    return h('p', { class: 'muted replay-check', id: 'replay-check', 'data-matches': 'true' },
      `Recorded by replaying the verifier's run, and checked against it: same patch point, code writes, ${check.outputLines} output line${check.outputLines === 1 ? '' : 's'}, ${check.instructions.toLocaleString('en')} instructions and end.`);
  }
  return h('div', { class: 'note replay-check', id: 'replay-check', 'data-matches': 'false', role: 'status' },
    h('p', {}, 'No trace: replaying this run to record it did not reproduce the verifier\'s run, so a trace would show a different execution from the one the verdict is about. The timeline below is the verifier\'s own output.'),
    h('ul', {}, ...check.differences.map((d) => h('li', {}, d))));
}

function showView(view: VerificationView, replaying?: number): void {
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
    stepper = new TraceStepper(view.trace, view.timeline, view.result.run?.process?.threads?.list ?? []);
  }
  const replayCheck = replayCheckNote(view);
  if (replayCheck) execution.append(replayCheck);
  const explored = view.result.exploration ?? (replaying !== undefined ? lastExploration?.view.result.exploration : undefined);
  if (explored) {
    const defaultPoint = view.result.exploration ? view.result.run?.patchPoint : lastExploration?.view.result.run?.patchPoint;
    const section = renderExploration(explored, defaultPoint, replayAt);
    if (replaying !== undefined) section.append(h('p', { class: 'note', id: 'replaying' }, `Showing the verification at --patch-at ${replaying}, an unsafe moment of the exploration.`));
    execution.append(section);
  }
  execution.append(
    h('div', { class: 'columns' },
      h('div', { class: 'column' }, h('h3', {}, 'Timeline'), view.timeline.length > 0 ? renderTimeline(view.timeline, goToStep, view.lanes) : h('p', { class: 'muted' }, 'No run recorded.')),
      h('div', { class: 'column wide' }, h('h3', {}, 'Trace around the patch point'), stepper ? stepper.element : h('p', { class: 'muted' }, 'No trace recorded.'))));
  const parts: HTMLElement[] = [renderVerdict(view, onJump)];
  if (view.result.verdict !== 'error' || view.site) {
    const slots = view.result.strategy === 'got' || view.result.strategy === 'vtable';
    const site = slots ? renderSlotWrites(view.result) : renderPatchSite(view.site, view.result);
    // Right under the verdict's heading, before the findings' buttons in the tab order.
    parts[0]!.querySelector('h2')!.after(jumpLinks(site, stepper?.element ?? execution));
    parts.push(site, execution);
  }
  results.replaceChildren(...parts);
  results.querySelector<HTMLElement>('#verdict h2')?.setAttribute('tabindex', '-1');
  results.querySelector<HTMLElement>('#verdict h2')?.focus();
}

// Last, once every listener is in place (a permalink submits the form right away).
openPermalink();
window.addEventListener('hashchange', openPermalink);
