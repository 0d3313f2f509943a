// The tool as the patcher (the seed's replaceFunction(handle, sym)): dlopen patch.so in the
// process, find the old function as dlsym(RTLD_DEFAULT) would, and let the strategy write.

import { RTLD_NOW } from '../../loader/index.js';
import { checkTargetExported } from '../checks/symbol-export.js';
import { PATCH_PATH } from '../dynamic/launch.js';
import { VerifyError } from '../error.js';
import { symbolSummary } from '../summary.js';
import { calleeFacts, replacementRuntimeAddress } from './callee-facts.js';
import type { Patcher } from './patcher.js';
import { refuseIfunc } from '../ifunc.js';

export const toolPatcher: Patcher = {
  mode: 'tool-driven',
  apply(session) {
    const { plan, process } = session;
    const choice = plan.replacement;
    if (!choice) throw new VerifyError('symbol-not-found', `no replacement for ${plan.target.demangled} in the patch '${plan.input.patchName}'`);
    const opened = process.dlopen(PATCH_PATH, RTLD_NOW, Math.max(1, plan.budget - process.instructions));
    if ('error' in opened) throw new VerifyError('bad-input', `dlopen("${plan.input.patchName}") fails in the emulated process: ${opened.error}`);
    const patchObject = process.objects.find((o) => o.path === PATCH_PATH)!;
    const address = replacementRuntimeAddress(process, patchObject.base, choice);
    if (choice.how !== 'fix-table') refuseIfunc(process, choice.fn, address, 'replacement', plan.input.patchName);
    session.result.replacement = symbolSummary(choice.fn, address, plan.input.patchName);
    const facts = plan.targetCode ? calleeFacts(plan.targetCode, plan.target, process, address, choice.fn.demangled) : { variadic: false };
    const prepared = plan.strategy.prepare(session, { address, name: choice.fn.demangled }, facts);
    if (prepared.trampoline) session.result.trampoline = prepared.trampoline;
    // dlsym(RTLD_DEFAULT) needs the target in .dynsym; a patcher reading the symbol table does not (nor one rewriting slots).
    const findings = [...prepared.findings, ...(plan.lookup === 'dynsym' && plan.strategy.name === 'prologue' ? checkTargetExported(plan.target, plan.input.mainName) : [])];
    const applied = plan.strategy.apply(session, prepared);
    findings.push(...applied.findings);
    return {
      findings,
      patched: applied.written,
      continues: applied.written,
      ...(applied.written ? {} : { stopped: 'the patch was not applied' }),
      overwritten: prepared.overwritten,
      replacements: [address],
      replacementName: choice.fn.demangled,
      facts,
      writesElsewhere: [],
      nothingWritten: false,
    };
  },
};
